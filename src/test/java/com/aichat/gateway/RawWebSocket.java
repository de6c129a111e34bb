package com.aichat.gateway;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A minimal blocking RFC 6455 client over a plain socket, for protocol-level gateway tests: it
 * negotiates (or not) permessage-deflate, and sends frames built byte by byte, e.g. a small
 * compressed frame that inflates to many megabytes, which no ordinary client would send. Server
 * frames are read and inflated (with context takeover, as the server negotiates by default).
 * Call it from the test thread, never from an event loop.
 */
final class RawWebSocket implements AutoCloseable {

  /** One frame from the server; {@code text} is the (inflated) payload as UTF-8. */
  record Frame(int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The status code of a close frame, or -1. */
    int closeStatus() {
      return opcode == 8 && payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
    }
  }

  private static final byte[] TAIL = {0x00, 0x00, (byte) 0xff, (byte) 0xff};
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final SecureRandom random = new SecureRandom();
  private final Inflater inflater = new Inflater(true);
  final String handshakeResponse;

  private RawWebSocket(Socket socket, String handshakeResponse) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
    this.handshakeResponse = handshakeResponse;
  }

  /** Opens {@code /socket.io/?EIO=4&transport=websocket}, offering permessage-deflate if asked. */
  static RawWebSocket open(int port, boolean offerDeflate) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    String req = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        + "Host: 127.0.0.1:" + port + "\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "")
        + "\r\n";
    s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream raw = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (true) {
      int b = raw.read();
      if (b < 0) {
        throw new EOFException("connection closed during the handshake: " + head);
      }
      head.write(b);
      byte[] h = head.toByteArray();
      int n = h.length;
      if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
        break;
      }
    }
    return new RawWebSocket(s, head.toString(StandardCharsets.US_ASCII));
  }

  boolean deflateNegotiated() {
    return handshakeResponse.toLowerCase().contains("sec-websocket-extensions: permessage-deflate");
  }

  void sendText(String text) throws IOException {
    sendFrame(0x1, false, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends {@code text} as one permessage-deflate compressed text frame (RSV1 set). */
  void sendCompressedText(String text) throws IOException {
    sendFrame(0x1, true, deflate(text.getBytes(StandardCharsets.UTF_8), 1));
  }

  /** Sends a compressed text frame that inflates to {@code prefix} followed by {@code count} 'a's. */
  int sendCompressedBomb(String prefix, long count) throws IOException {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    d.setInput(prefix.getBytes(StandardCharsets.UTF_8));
    drain(d, compressed, buf, Deflater.NO_FLUSH);
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) 'a');
    for (long left = count; left > 0; left -= chunk.length) {
      d.setInput(chunk, 0, (int) Math.min(chunk.length, left));
      drain(d, compressed, buf, Deflater.NO_FLUSH);
    }
    drain(d, compressed, buf, Deflater.SYNC_FLUSH);
    d.end();
    byte[] payload = stripTail(compressed.toByteArray());
    sendFrame(0x1, true, payload);
    return payload.length;
  }

  private static void drain(Deflater d, ByteArrayOutputStream to, byte[] buf, int flush) {
    while (true) {
      int n = d.deflate(buf, 0, buf.length, flush);
      to.write(buf, 0, n);
      if (n < buf.length && d.needsInput()) {
        return;
      }
    }
  }

  private static byte[] deflate(byte[] data, int level) {
    Deflater d = new Deflater(level, true);
    d.setInput(data);
    ByteArrayOutputStream to = new ByteArrayOutputStream();
    drain(d, to, new byte[8192], Deflater.SYNC_FLUSH);
    d.end();
    return stripTail(to.toByteArray());
  }

  private static byte[] stripTail(byte[] b) {
    int n = b.length;
    if (n >= 4 && b[n - 4] == 0 && b[n - 3] == 0 && b[n - 2] == (byte) 0xff && b[n - 1] == (byte) 0xff) {
      return java.util.Arrays.copyOf(b, n - 4);
    }
    return b;
  }

  private void sendFrame(int opcode, boolean rsv1, byte[] payload) throws IOException {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write(0x80 | (rsv1 ? 0x40 : 0) | opcode);
    int len = payload.length;
    if (len < 126) {
      f.write(0x80 | len);
    } else if (len < 65536) {
      f.write(0x80 | 126);
      f.write(len >>> 8);
      f.write(len);
    } else {
      f.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) ((long) len >>> (8 * i)));
      }
    }
    byte[] mask = new byte[4];
    random.nextBytes(mask);
    f.write(mask);
    for (int i = 0; i < len; i++) {
      f.write(payload[i] ^ mask[i & 3]);
    }
    out.write(f.toByteArray());
    out.flush();
  }

  /** The next frame (inflated when compressed), or null once the server closed the connection. */
  Frame read() throws IOException {
    int b0;
    try {
      b0 = in.read();
    } catch (java.net.SocketException e) {
      return null; // reset by the server
    }
    if (b0 < 0) {
      return null;
    }
    int b1 = in.readUnsignedByte();
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    if ((b0 & 0x40) != 0) {
      payload = inflate(payload);
    }
    return new Frame(b0 & 0x0f, payload);
  }

  /** Reads until a frame whose text starts with {@code prefix}; fails on close or after the timeout. */
  Frame readUntilText(String prefix) throws IOException {
    while (true) {
      Frame f = read();
      if (f == null || f.opcode() == 8) {
        throw new EOFException("closed while waiting for " + prefix + (f == null ? "" : " (close " + f.closeStatus() + ")"));
      }
      if (f.opcode() == 1 && f.text().startsWith(prefix)) {
        return f;
      }
    }
  }

  /** Reads until the server's close frame or the end of the connection; null when it just ended. */
  Frame readUntilClose() throws IOException {
    while (true) {
      Frame f;
      try {
        f = read();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the server did not close the connection within the read timeout");
      }
      if (f == null || f.opcode() == 8) {
        return f;
      }
    }
  }

  private byte[] inflate(byte[] compressed) throws IOException {
    byte[] input = new byte[compressed.length + 4];
    System.arraycopy(compressed, 0, input, 0, compressed.length);
    System.arraycopy(TAIL, 0, input, compressed.length, 4);
    inflater.setInput(input);
    ByteArrayOutputStream to = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      while (!inflater.needsInput()) {
        int n = inflater.inflate(buf);
        if (n == 0 && inflater.needsInput()) {
          break;
        }
        to.write(buf, 0, n);
      }
    } catch (DataFormatException e) {
      throw new IOException("cannot inflate a server frame", e);
    }
    return to.toByteArray();
  }

  @Override
  public void close() throws IOException {
    inflater.end();
    socket.close();
  }
}
