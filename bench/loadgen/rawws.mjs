// A bare WebSocket client on net.Socket for the load generator: a fixed
// handshake, one Buffer written per frame, frames parsed in place. It costs
// about half of what the `ws` package costs per message (see
// docs/performance.md), which keeps the generator off the critical path.
import net from "node:net";

const HEADER_END = Buffer.from("\r\n\r\n");
const EMPTY = Buffer.alloc(0);
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** Encode one client frame. The masking key is all zeros: valid, and XOR with 0 is a no-op. */
function encodeFrame(opcode, payload) {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + ext + 4 + len);
  frame[0] = 0x80 | opcode;
  if (ext === 0) {
    frame[1] = 0x80 | len;
  } else if (ext === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  frame.writeUInt32BE(0, 2 + ext);
  payload.copy(frame, 6 + ext);
  return frame;
}

export class RawWebSocket {
  /** `onText(text)` gets every text message; `onClose()` once at the end. */
  constructor(port, path) {
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.setNoDelay(true);
    this.buf = EMPTY;
    this.upgraded = false;
    this.closed = false;
    this.fragments = null;
    this.onText = null;
    this.onClose = null;
    this.onError = null;
    this.sock.on("connect", () => {
      this.sock.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    this.sock.on("data", (chunk) => this.feed(chunk));
    this.sock.on("error", (err) => {
      if (this.onError !== null) this.onError(err);
    });
    this.sock.on("close", () => {
      this.closed = true;
      if (this.onClose !== null) this.onClose();
    });
  }

  send(text) {
    if (!this.closed) this.sock.write(encodeFrame(OP_TEXT, Buffer.from(text)));
  }

  terminate() {
    this.closed = true;
    this.sock.destroy();
  }

  feed(chunk) {
    let buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.upgraded) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) {
        this.buf = buf;
        return;
      }
      if (buf.toString("latin1", 9, 12) !== "101") {
        if (this.onError !== null) this.onError(new Error(buf.toString("latin1", 0, end)));
        this.terminate();
        return;
      }
      this.upgraded = true;
      buf = buf.subarray(end + 4);
    }
    let pos = 0;
    while (buf.length - pos >= 2) {
      const b0 = buf[pos];
      let len = buf[pos + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - pos < 4) break;
        len = buf.readUInt16BE(pos + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - pos < 10) break;
        len = Number(buf.readBigUInt64BE(pos + 2));
        head = 10;
      }
      if (buf.length - pos < head + len) break;
      const payload = buf.subarray(pos + head, pos + head + len);
      pos += head + len;
      this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
      if (this.closed) return;
    }
    this.buf = pos === buf.length ? EMPTY : buf.subarray(pos);
  }

  onFrame(opcode, fin, payload) {
    if (opcode === OP_TEXT || opcode === OP_BINARY || opcode === OP_CONT) {
      if (!fin || this.fragments !== null) {
        // Fragmented message: collect until the final frame (copies, since
        // `payload` points into a buffer that will be reused).
        if (this.fragments === null) this.fragments = [];
        this.fragments.push(Buffer.from(payload));
        if (!fin) return;
        payload = Buffer.concat(this.fragments);
        this.fragments = null;
      }
      if (this.onText !== null) this.onText(payload.toString());
    } else if (opcode === OP_PING) {
      this.sock.write(encodeFrame(0xa, payload));
    } else if (opcode === OP_CLOSE) {
      this.sock.end(encodeFrame(OP_CLOSE, EMPTY));
      this.closed = true;
    }
  }
}
