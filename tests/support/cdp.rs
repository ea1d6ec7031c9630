//! A tiny Chrome DevTools Protocol client for the browser tests: starts Debian's `chromium`
//! headless on loopback (`--remote-debugging-port=0`, a private profile directory), attaches
//! to its page over a WebSocket (client side of RFC 6455, text frames only) and sends
//! commands, keeping the events that arrive meanwhile. JSON is written by the caller and
//! read with [`string_field`] and [`number_field`]: enough for the few answers the tests read.
//!
//! Only the chromium process this file spawned is ever killed, by its pid (its own children
//! exit with it). Every wait is bounded. Included after `json_text` (`support/json_text.rs`).
#![allow(dead_code)]

use crate::json_text::json_string;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The Debian package that provides the browser.
pub const PACKAGE: &str = "chromium";
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one command may take to be answered.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// The browser binary: `chromium` on PATH or Debian's path.
pub fn chromium_binary() -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("chromium");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let debian = Path::new("/usr/bin/chromium");
    debian.is_file().then(|| debian.to_path_buf())
}

/// A running headless chromium and a DevTools session on its page.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: TcpStream,
    next_id: u64,
    /// Every event received so far (raw JSON texts), oldest first.
    pub events: Vec<String>,
}

impl Browser {
    /// Starts chromium with a fresh profile in `profile` (created; removed on drop) and
    /// attaches to its first page.
    pub fn launch(profile: &Path) -> Result<Browser, String> {
        let binary = chromium_binary().ok_or_else(|| {
            format!("chromium not found: install Debian's {PACKAGE} (apt-get install -y {PACKAGE})")
        })?;
        std::fs::create_dir_all(profile).map_err(|e| format!("profile dir: {e}"))?;
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--metrics-recording-only",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--hide-scrollbars",
                "--lang=en-US",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Forward the DevTools line, then keep draining stderr so chromium never blocks.
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(at) = line.find("ws://") {
                        let _ = tx.send(line[at..].trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let browser_ws = match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "chromium did not print its DevTools address within {START_TIMEOUT:?}"
                ));
            }
        };
        let socket = match page_ws_url(&browser_ws).and_then(|url| connect_ws(&url)) {
            Ok(socket) => socket,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(Browser {
            child,
            profile: profile.to_path_buf(),
            socket,
            next_id: 0,
            events: Vec::new(),
        })
    }

    /// Sends `method` with `params` (a JSON object text) and returns the answer's JSON text.
    /// An answer carrying `"error"` is an Err.
    pub fn call(&mut self, method: &str, params: &str) -> Result<String, String> {
        self.next_id += 1;
        let id = self.next_id;
        let message = format!("{{\"id\":{id},\"method\":\"{method}\",\"params\":{params}}}");
        write_frame(&mut self.socket, message.as_bytes())
            .map_err(|e| format!("{method}: send: {e}"))?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        let marker = format!("\"id\":{id},");
        let marker_end = format!("\"id\":{id}}}");
        loop {
            let text = self
                .read_message(deadline)
                .map_err(|e| format!("{method}: {e}"))?;
            if text.starts_with(&format!("{{{marker}")) || text.contains(&marker_end) {
                if text.contains("\"error\":") && !text.contains("\"result\":") {
                    return Err(format!("{method}: {text}"));
                }
                return Ok(text);
            }
            self.events.push(text);
        }
    }

    /// Waits until an event `method` arrives that was not in `events[..seen]`; returns it.
    pub fn wait_event(
        &mut self,
        method: &str,
        seen: usize,
        timeout: Duration,
    ) -> Result<String, String> {
        let marker = format!("\"method\":\"{method}\"");
        if let Some(e) = self.events[seen.min(self.events.len())..]
            .iter()
            .find(|e| e.contains(&marker))
        {
            return Ok(e.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let text = self
                .read_message(deadline)
                .map_err(|e| format!("waiting for {method}: {e}"))?;
            let hit = text.contains(&marker);
            self.events.push(text.clone());
            if hit {
                return Ok(text);
            }
        }
    }

    /// Evaluates `expression` in the page and returns its value, which must be a string
    /// (`JSON.stringify(...)` for anything else).
    pub fn eval_string(&mut self, expression: &str) -> Result<String, String> {
        let params = format!(
            "{{\"expression\":{},\"returnByValue\":true,\"awaitPromise\":true}}",
            json_string(expression)
        );
        let answer = self.call("Runtime.evaluate", &params)?;
        if answer.contains("\"exceptionDetails\"") {
            return Err(format!("{expression}: {answer}"));
        }
        string_field(&answer, "value")
            .ok_or_else(|| format!("{expression}: no string value in {answer}"))
    }

    /// Navigates and waits for the load event.
    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        let seen = self.events.len();
        self.call(
            "Page.navigate",
            &format!("{{\"url\":{}}}", json_string(url)),
        )?;
        self.wait_event("Page.loadEventFired", seen, CALL_TIMEOUT)?;
        Ok(())
    }

    /// A left click at (x, y) in CSS pixels of the viewport, as a user's.
    pub fn click(&mut self, x: f64, y: f64) -> Result<(), String> {
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                &format!("{{\"type\":\"{kind}\",\"x\":{x},\"y\":{y},\"button\":\"left\",\"clickCount\":1}}"),
            )?;
        }
        Ok(())
    }

    /// Sets the viewport to `width` x `height` CSS pixels (`mobile` for a phone).
    pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            &format!(
                "{{\"width\":{width},\"height\":{height},\"deviceScaleFactor\":1,\"mobile\":{mobile}}}"
            ),
        )
        .map(drop)
    }

    /// A PNG of the whole page (beyond the viewport) written to `path`.
    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let answer = self.call(
            "Page.captureScreenshot",
            "{\"format\":\"png\",\"captureBeyondViewport\":true}",
        )?;
        let data = string_field(&answer, "data").ok_or("no screenshot data")?;
        let png = base64_decode(&data).ok_or("screenshot is not base64")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads one whole message (text, reassembled from fragments) before `deadline`.
    fn read_message(&mut self, deadline: Instant) -> io::Result<String> {
        let mut message = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
            }
            self.socket.set_read_timeout(Some(left))?;
            let (fin, opcode, payload) = read_frame(&mut self.socket)?;
            match opcode {
                0x0..=0x2 => message.extend_from_slice(&payload),
                0x8 => return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed")),
                0x9 => {
                    write_control(&mut self.socket, 0xA, &payload)?;
                    continue;
                }
                _ => continue,
            }
            if fin {
                return Ok(String::from_utf8_lossy(&message).into_owned());
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        // Our own child, by its pid: std's kill uses the pid of the process spawned above.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The first page's WebSocket address, from `/json/list` of the DevTools HTTP endpoint.
fn page_ws_url(browser_ws: &str) -> Result<String, String> {
    let authority = browser_ws
        .strip_prefix("ws://")
        .and_then(|r| r.split('/').next())
        .ok_or("bad DevTools address")?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let body = http_get(authority, "/json/list")?;
        let page = body
            .split('{')
            .find(|o| o.contains("\"type\": \"page\"") || o.contains("\"type\":\"page\""));
        if let Some(url) = page.and_then(|o| string_field(o, "webSocketDebuggerUrl")) {
            return Ok(url);
        }
        if Instant::now() >= deadline {
            return Err(format!("no page target in /json/list: {body}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 GET on loopback (the DevTools endpoint), body as text.
fn http_get(authority: &str, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(authority).map_err(|e| format!("{authority}: {e}"))?;
    s.set_read_timeout(Some(CALL_TIMEOUT))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    // Chromium keeps the connection open: read the head, then Content-Length bytes.
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&all).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Ok(body.to_string());
            }
        }
        let n = s.read(&mut buf).map_err(|e| format!("GET {path}: {e}"))?;
        if n == 0 {
            return Ok(text
                .split_once("\r\n\r\n")
                .map_or(text.clone(), |(_, b)| b.to_string()));
        }
        all.extend_from_slice(&buf[..n]);
    }
}

/// Opens a WebSocket to `ws://host:port/path`.
fn connect_ws(url: &str) -> Result<TcpStream, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("not ws://: {url}"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(authority).map_err(|e| format!("{authority}: {e}"))?;
    s.set_read_timeout(Some(CALL_TIMEOUT))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    // The handshake answer, byte by byte up to the blank line (frames may follow at once).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte)
            .map_err(|e| format!("handshake: {e}"))?;
        head.push(byte[0]);
        if head.len() > 8192 {
            return Err("handshake answer too long".into());
        }
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!("WebSocket handshake refused: {head}"));
    }
    Ok(s)
}

/// One masked text frame (a client must mask).
fn write_frame(s: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    write_masked(s, 0x1, payload)
}

fn write_control(s: &mut TcpStream, opcode: u8, payload: &[u8]) -> io::Result<()> {
    write_masked(s, opcode, payload)
}

fn write_masked(s: &mut TcpStream, opcode: u8, payload: &[u8]) -> io::Result<()> {
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        frame.push(0x80 | n as u8);
    } else if n <= 0xFFFF {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(n as u64).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame)
}

/// (fin, opcode, payload) of the next frame (server frames are not masked).
fn read_frame(s: &mut TcpStream) -> io::Result<(bool, u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head)?;
    let fin = head[0] & 0x80 != 0;
    let opcode = head[0] & 0x0F;
    let masked = head[1] & 0x80 != 0;
    let mut len = u64::from(head[1] & 0x7F);
    if len == 126 {
        let mut b = [0u8; 2];
        s.read_exact(&mut b)?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        s.read_exact(&mut b)?;
        len = u64::from_be_bytes(b);
    }
    if len > 256 * 1024 * 1024 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut mask = [0u8; 4];
    if masked {
        s.read_exact(&mut mask)?;
    }
    let mut payload = vec![0u8; len as usize];
    s.read_exact(&mut payload)?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
    }
    Ok((fin, opcode, payload))
}

/// The first string value of `"name":` in a JSON text, unescaped.
pub fn string_field(json: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    let mut at = 0;
    while let Some(found) = json[at..].find(&key) {
        let after = at + found + key.len();
        let rest = json[after..].trim_start();
        if let Some(rest) = rest.strip_prefix(':') {
            let rest = rest.trim_start();
            if let Some(body) = rest.strip_prefix('"') {
                return unescape_json(body);
            }
        }
        at = after;
    }
    None
}

/// The first number value of `"name":` in a JSON text.
pub fn number_field(json: &str, name: &str) -> Option<f64> {
    let key = format!("\"{name}\":");
    let at = json.find(&key)? + key.len();
    let rest = json[at..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A JSON string body (after its opening quote) up to its closing quote, unescaped.
fn unescape_json(body: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = u32::from_str_radix(&hex, 16).ok()?;
                    out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Standard base64 (with padding) to bytes.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let mut n = 0u32;
        for &b in chunk {
            n = (n << 6) | if b == b'=' { 0 } else { value(b)? };
        }
        n <<= 6 * (4 - chunk.len() as u32);
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad.min(2)]);
    }
    Some(out)
}
