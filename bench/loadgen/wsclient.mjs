// A raw Engine.IO 4 / Socket.IO 5 client over WebSocket: the handshake and the
// frames are written by hand so each message costs one string and one write.
// Two WebSocket layers are available: "raw" (rawws.mjs, the default) and the
// `ws` package, kept so the cost of each can be compared (--ws-client).
import WebSocket from "ws";
import { RawWebSocket } from "./rawws.mjs";

const PATH = "/socket.io/?EIO=4&transport=websocket";
const PING = "2";
// An all-zero masking key is valid (RFC 6455 asks the client to pick one per
// frame; servers never judge its entropy) and lets ws skip the XOR pass.
const zeroMask = (mask) => mask.fill(0);

let clientKind = "raw";

export function setWsClient(kind) {
  if (kind !== "raw" && kind !== "ws") throw new Error(`unknown WebSocket client ${kind}`);
  clientKind = kind;
}

/** The `ws` package behind the same small interface as RawWebSocket. */
class WsPackageSocket {
  constructor(port, path) {
    this.closed = false;
    this.onText = null;
    this.onClose = null;
    this.onError = null;
    this.ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      generateMask: zeroMask,
    });
    this.ws.on("message", (data) => {
      if (this.onText !== null) this.onText(data.toString());
    });
    this.ws.on("error", (err) => {
      if (this.onError !== null) this.onError(err);
    });
    this.ws.on("close", () => {
      this.closed = true;
      if (this.onClose !== null) this.onClose();
    });
  }

  send(text) {
    if (!this.closed) this.ws.send(text);
  }

  terminate() {
    this.closed = true;
    this.ws.terminate();
  }
}

/**
 * Open a WebSocket, wait for the Engine.IO open packet, CONNECT the main
 * namespace and resolve once the server's CONNECT answer arrives.
 * Pings are answered here; every other packet goes to `conn.onPacket(text)`.
 */
export function connectWs(port, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const sock =
      clientKind === "raw" ? new RawWebSocket(port, PATH) : new WsPackageSocket(port, PATH);
    const conn = {
      closed: false,
      onPacket: null,
      onClose: null,
      send: (text) => sock.send(text),
      close: () => sock.terminate(),
    };
    let state = 0; // 0: awaiting the open packet, 1: awaiting CONNECT, 2: connected
    const fail = (err) => {
      if (state >= 2) return;
      state = 3;
      clearTimeout(timer);
      sock.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error("handshake timeout")), timeoutMs);
    sock.onText = (text) => {
      if (text === PING) {
        sock.send("3");
      } else if (state === 2) {
        if (conn.onPacket !== null) conn.onPacket(text);
      } else if (state === 0 && text.charCodeAt(0) === 48 /* "0" */) {
        state = 1;
        sock.send("40");
      } else if (state === 1 && text.startsWith("40")) {
        state = 2;
        clearTimeout(timer);
        resolve(conn);
      } else if (state === 1 && text.startsWith("44")) {
        fail(new Error(`connect refused: ${text.slice(0, 200)}`));
      }
    };
    sock.onError = (err) => fail(err);
    sock.onClose = () => {
      conn.closed = true;
      fail(new Error("closed during handshake"));
      if (conn.onClose !== null) conn.onClose();
    };
  });
}

/** Run `count` connects with at most `concurrency` in flight; failures are counted, not thrown. */
export async function connectMany(count, concurrency, connect) {
  const conns = [];
  const errors = {};
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      try {
        conns.push(await connect());
      } catch (err) {
        failures += 1;
        const key = String(err && err.message ? err.message : err).slice(0, 120);
        errors[key] = (errors[key] || 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { conns, failures, errors };
}

export function closeAll(conns) {
  for (const c of conns) c.close();
}
