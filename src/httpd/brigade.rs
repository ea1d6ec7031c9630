//! `Brigade<'r>`: a bucket brigade of one request, used whole: what goes out is appended,
//! passed down the output filters and emptied in one call (so a transient bucket never
//! outlives the bytes it borrows), and what comes in is read into a caller's buffer.
use super::Request;
use crate::ffi;
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::ptr::NonNull;

pub(crate) struct Brigade<'r> {
    raw: NonNull<ffi::apr_bucket_brigade>,
    alloc: *mut ffi::apr_bucket_alloc_t,
    _life: PhantomData<&'r mut ffi::apr_bucket_brigade>,
}

/// What follows the data of a [`Brigade::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    Nothing,
    /// FLUSH: the core output filter writes now rather than keeping the bytes aside.
    Flush,
    /// EOS then FLUSH: the response is complete; it goes out before httpd's end-of-request
    /// work.
    EndAndFlush,
    /// An error bucket with this status: the chunk filter omits the last chunk and the
    /// connection closes (a truncated response, as mod_proxy does).
    Error(u16),
}

/// The EOS went down the filters: httpd must not send another at the end of the request.
/// `ap_pass_brigade` notes that only when EOS is the brigade's last bucket, and ours ends with
/// FLUSH; without this, httpd's finalize sends a second EOS through every filter. As
/// `ap_pass_brigade` does, the requests this one was internally redirected from are marked too.
///
/// # Safety
/// `r` and its `prev` chain must be live request_recs.
unsafe fn mark_eos_sent(r: *mut ffi::request_rec) {
    let mut at = r;
    while !at.is_null() {
        // SAFETY: per the contract, every request of the chain is live.
        unsafe {
            (*at).eos_sent = 1;
            at = (*at).prev;
        }
    }
}

/// A failure reading the request body.
pub(crate) enum ReadFailure {
    /// An input filter already answered the client (`AP_FILTER_ERROR`).
    FilterError,
    /// The input filters failed with this APR status.
    Input(ffi::apr_status_t),
    /// Copying the data out failed with this APR status.
    Flatten(ffi::apr_status_t),
}

impl<'r> Brigade<'r> {
    /// An empty brigade from the request's pool and its connection's allocator.
    pub(crate) fn new(req: &Request<'r>) -> Brigade<'r> {
        let r = req.raw();
        // SAFETY: r and its connection are live; the brigade is allocated from r->pool and
        // dies with the request (apr_brigade_create never returns NULL: it aborts on OOM).
        unsafe {
            let alloc = (*(*r).connection).bucket_alloc;
            let raw = ffi::apr_brigade_create((*r).pool, alloc);
            Brigade {
                raw: NonNull::new(raw).expect("apr_brigade_create returned NULL"),
                alloc,
                _life: PhantomData,
            }
        }
    }

    fn append(&mut self, bucket: *mut ffi::apr_bucket) {
        // SAFETY: the brigade and the bucket are live and from the same allocator.
        unsafe { ffi::jk_rs_brigade_insert_tail(self.raw.as_ptr(), bucket) };
    }

    /// Appends a transient bucket over `data`. Only [`send`](Self::send) calls it, which passes
    /// and empties the brigade before `data`'s borrow ends.
    #[inline(always)]
    fn borrow(&mut self, data: &[u8]) {
        // SAFETY: a transient bucket borrows `data` only until ap_pass_brigade returns (filters
        // that keep it copy it: apr_bucket_setaside), and `send` empties the brigade before it
        // returns, so no bucket outlives the borrow of `data`.
        let b = unsafe {
            ffi::apr_bucket_transient_create(
                data.as_ptr().cast(),
                data.len() as ffi::apr_size_t,
                self.alloc,
            )
        };
        self.append(b);
    }

    /// Appends `lead` (if any) and `parts` (borrowed, not copied) and `tail`, passes
    /// the brigade down `req`'s output filters and empties it. `Err` when the pass failed or
    /// the client is gone.
    #[inline]
    pub(crate) fn send(
        &mut self,
        req: &Request<'r>,
        lead: &[u8],
        parts: &[&[u8]],
        tail: Tail,
    ) -> Result<(), ()> {
        // A plain loop over `parts` (a chained iterator cost ~20 instructions a part, 1,280
        // parts per 10 MiB answer).
        if !lead.is_empty() {
            self.borrow(lead);
        }
        for data in parts {
            self.borrow(data);
        }
        // SAFETY: the allocator is the connection's; the request's pool lives for the request.
        unsafe {
            match tail {
                Tail::Nothing => {}
                Tail::Flush => self.append(ffi::apr_bucket_flush_create(self.alloc)),
                Tail::EndAndFlush => {
                    self.append(ffi::apr_bucket_eos_create(self.alloc));
                    self.append(ffi::apr_bucket_flush_create(self.alloc));
                }
                Tail::Error(status) => self.append(ffi::ap_bucket_error_create(
                    c_int::from(status),
                    std::ptr::null(),
                    (*req.raw()).pool,
                    self.alloc,
                )),
            }
        }
        let r = req.raw();
        // SAFETY: r's output filters and the brigade are live; after the pass the brigade is
        // emptied so no bucket refers to the caller's buffers any more.
        let (rv, aborted) = unsafe {
            let rv = ffi::ap_pass_brigade((*r).output_filters, self.raw.as_ptr());
            ffi::apr_brigade_cleanup(self.raw.as_ptr().cast());
            (rv, (*(*r).connection).aborted != 0)
        };
        if tail == Tail::EndAndFlush {
            // SAFETY: r and the requests it was redirected from (prev) are live for the whole
            // request; nothing else writes these fields while the handler runs.
            unsafe { mark_eos_sent(r) };
        }
        if rv != ffi::APR_SUCCESS as ffi::apr_status_t || aborted {
            return Err(());
        }
        Ok(())
    }

    /// Reads at most `buf.len()` body bytes through `req`'s input filters (blocking) into
    /// `buf`: how many, and whether the body ended.
    pub(crate) fn read(
        &mut self,
        req: &Request<'r>,
        buf: &mut [u8],
    ) -> Result<(usize, bool), ReadFailure> {
        let bb = self.raw.as_ptr();
        // SAFETY: r, its input filters and the brigade are live; READBYTES with BLOCK_READ.
        let rv = unsafe {
            ffi::ap_get_brigade(
                (*req.raw()).input_filters,
                bb,
                ffi::ap_input_mode_t::AP_MODE_READBYTES,
                ffi::apr_read_type_e::APR_BLOCK_READ,
                buf.len() as ffi::apr_off_t,
            )
        };
        if rv == ffi::AP_FILTER_ERROR {
            return Err(ReadFailure::FilterError);
        }
        if rv != ffi::APR_SUCCESS as ffi::apr_status_t {
            // SAFETY: the brigade is live.
            unsafe { ffi::apr_brigade_cleanup(bb.cast()) };
            return Err(ReadFailure::Input(rv));
        }
        let mut len = buf.len() as ffi::apr_size_t;
        // SAFETY: flatten copies at most len bytes into buf; then the brigade is emptied.
        let (frv, eos) = unsafe {
            let frv = ffi::apr_brigade_flatten(bb, buf.as_mut_ptr().cast(), &mut len);
            let eos = ffi::jk_rs_brigade_last_is_eos(bb) != 0;
            ffi::apr_brigade_cleanup(bb.cast());
            (frv, eos)
        };
        if frv != ffi::APR_SUCCESS as ffi::apr_status_t {
            return Err(ReadFailure::Flatten(frv));
        }
        Ok((len as usize, eos))
    }
}
