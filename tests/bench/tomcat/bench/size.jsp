<%-- The benchmark's page (tests/bench/tomcat.sh deploys this directory as the application /bench):
     answers `?size=N` with exactly N bytes, as tests/bench/ajp_responder.rs does:
     200, Content-Type application/octet-stream, Content-Length N, and the bytes of
     tests/support/ajp_backend.rs's pattern_byte(i) = (7i + i/251) mod 256 (what the
     benchmark's static files hold). No `size` or a malformed one: 1024 bytes. A request body
     (the post-1m scenario) is read to its end and thrown away, as the responder does.

     The bytes go through response.getOutputStream(), never the JSP writer `out`: there is no
     template text (trimDirectiveWhitespaces drops the whitespace between the tags), so `out` is
     never written to and never takes the response's Writer. session="false": no session is
     created, so no Set-Cookie is sent (a JSP makes one per request otherwise). --%>
<%@ page session="false" trimDirectiveWhitespaces="true" %>
<%!
    /** pattern_byte(i) repeats every 251 x 256 bytes. */
    private static final int PERIOD = 251 * 256;
    /** Bytes handed to the output stream per write: Tomcat's AJP body chunk is at most 8184. */
    private static final int CHUNK = 8184;
    /** One period of the pattern and a chunk more, so that any chunk is one contiguous slice. */
    private static final byte[] PATTERN = new byte[PERIOD + CHUNK];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) ((7L * i + i / 251) % 256);
        }
    }

    /** The last well-formed `size=N` of the query string (1 to 18 digits), or 1024. */
    private static long sizeOf(String query) {
        long size = 1024;
        if (query == null) {
            return size;
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith("size=") && pair.length() > 5 && pair.length() <= 5 + 18
                    && allDigits(pair, 5)) {
                size = Long.parseLong(pair.substring(5));
            }
        }
        return size;
    }

    private static boolean allDigits(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
%>
<%
    long announced = request.getContentLengthLong();
    if (announced > 0 || (announced < 0 && request.getHeader("Transfer-Encoding") != null)) {
        java.io.InputStream in = request.getInputStream();
        byte[] sink = new byte[8192];
        while (in.read(sink) >= 0) {
            // thrown away
        }
    }
    long size = sizeOf(request.getQueryString());
    response.setContentType("application/octet-stream");
    response.setContentLengthLong(size);
    java.io.OutputStream body = response.getOutputStream();
    for (long sent = 0; sent < size; ) {
        int n = (int) Math.min(CHUNK, size - sent);
        body.write(PATTERN, (int) (sent % PERIOD), n);
        sent += n;
    }
%>
