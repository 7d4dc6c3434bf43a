// A minimal HTTP/1.1 keep-alive client: one request at a time on one socket,
// requests written as one string, responses parsed just enough (status,
// Content-Length or chunked). Node's http module costs several times more per
// request, which would make the generator the bottleneck in polling-echo.
import net from "node:net";

const HEADER_END = Buffer.from("\r\n\r\n");

export class HttpConn {
  constructor(port) {
    this.port = port;
    this.waiter = null;
    this.closed = false;
    this.open();
  }

  // A server that answers "Connection: close" (werkzeug's threaded server
  // always does) gets a new socket for the next request, as any client does.
  open() {
    const sock = net.connect(this.port, "127.0.0.1");
    sock.setNoDelay(true);
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.reopen = false;
    sock.on("data", (chunk) => {
      if (sock !== this.sock) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    const fail = (err) => {
      if (sock !== this.sock || (this.reopen && this.waiter === null)) return;
      this.closed = true;
      const w = this.waiter;
      this.waiter = null;
      if (w !== null) w.reject(err || new Error("connection closed"));
    };
    sock.on("error", fail);
    sock.on("close", () => fail(null));
  }

  request(method, path, body = "") {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    if (this.waiter !== null) return Promise.reject(new Error("request already in flight"));
    if (this.reopen) {
      this.sock.destroy();
      this.open();
    }
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\n` +
      (method === "POST"
        ? `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
        : "") +
      "\r\n";
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.sock.write(method === "POST" ? head + body : head);
    });
  }

  parse() {
    const buf = this.buf;
    const headEnd = buf.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const head = buf.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    const bodyStart = headEnd + 4;
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body;
    let consumed;
    if (lengthMatch !== null) {
      const length = Number(lengthMatch[1]);
      if (buf.length < bodyStart + length) return;
      body = buf.toString("utf8", bodyStart, bodyStart + length);
      consumed = bodyStart + length;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts = [];
      let pos = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf("\r\n", pos);
        if (lineEnd < 0) return;
        const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
        if (buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          consumed = lineEnd + 4;
          break;
        }
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString("utf8");
    } else {
      body = "";
      consumed = bodyStart;
    }
    this.buf = consumed === buf.length ? Buffer.alloc(0) : buf.subarray(consumed);
    if (/\r\nconnection:\s*close/i.test(head)) this.reopen = true;
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) w.resolve({ status, body });
  }

  close() {
    this.closed = true;
    this.sock.destroy();
  }
}
