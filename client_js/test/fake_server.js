// An in-memory Engine.IO 4 / Socket.IO 5 server for the client's unit tests,
// written from the protocol text with plain string handling (it shares no
// code with the client). The client reaches it through fake WebSocket and
// XMLHttpRequest classes installed in the client's sandbox.

"use strict";

const vm = require("vm");

function parseQuery(url) {
  const query = {};
  const text = url.split("?")[1] || "";
  for (const pair of text.split("&")) {
    if (pair) {
      const [k, v] = pair.split("=");
      query[decodeURIComponent(k)] = decodeURIComponent(v || "");
    }
  }
  return query;
}

class FakeServer {
  constructor(options = {}) {
    this.pingInterval = options.pingInterval || 5000;
    this.pingTimeout = options.pingTimeout || 5000;
    this.sessions = new Map();
    this.handlers = {};
    this.down = false;
    this.counter = 0;
    this.log = [];
    this.refuse = options.refuse || (() => null);
    // The data of a CONNECT answer: (socket id, the client's auth, session) -> object.
    this.answer = options.answer || ((sid) => ({ sid }));
    this.maxPayload = options.maxPayload || 100000;
    this.postBodies = [];
  }

  // --- Engine.IO ---

  open(transport) {
    const sid = "s" + ++this.counter;
    const session = { sid, transport, queue: [], parked: null, ws: null, nsps: new Map(), pending: null };
    this.sessions.set(sid, session);
    return session;
  }

  handshake(session) {
    return "0" + JSON.stringify({
      sid: session.sid,
      upgrades: session.transport === "polling" ? ["websocket"] : [],
      pingInterval: this.pingInterval,
      pingTimeout: this.pingTimeout,
      maxPayload: this.maxPayload
    });
  }

  // Sends one Engine.IO packet (string, or Buffer for binary).
  push(session, packet) {
    if (session.ws) {
      session.ws.deliver(packet);
    } else {
      session.queue.push(packet);
      if (session.parked) {
        const parked = session.parked;
        session.parked = null;
        parked();
      }
    }
  }

  drain(session) {
    const items = session.queue.splice(0);
    return items
      .map((p) => (typeof p === "string" ? p : "b" + Buffer.from(p).toString("base64")))
      .join("\x1e");
  }

  receive(session, packet) {
    if (typeof packet !== "string") {
      this.onBinary(session, Buffer.from(packet));
      return;
    }
    const type = packet.charAt(0);
    const data = packet.slice(1);
    this.log.push(packet);
    if (type === "2" && data === "probe") {
      session.probing.deliver("3probe");
      // Like real servers: release the parked GET so the client can pause.
      this.push(session, "6");
    } else if (type === "5") {
      session.ws = session.probing;
      session.transport = "websocket";
      for (const queued of session.queue.splice(0)) {
        session.ws.deliver(queued);
      }
    } else if (type === "4") {
      if (data.charAt(0) === "b") {
        this.onBinary(session, Buffer.from(data.slice(1), "base64"));
      } else {
        this.onSocketPacket(session, data);
      }
    } else if (type === "1") {
      this.sessions.delete(session.sid);
    }
  }

  ping(session) {
    this.push(session, "2");
  }

  // Cuts every connection, as a restart would; sessions are forgotten.
  kill() {
    for (const session of this.sessions.values()) {
      if (session.ws) {
        session.ws.serverClose();
      }
      if (session.parked) {
        const parked = session.parked;
        session.parked = null;
        parked(400);
      }
    }
    this.sessions.clear();
  }

  // --- Socket.IO ---

  on(event, handler) {
    this.handlers[event] = handler;
  }

  onSocketPacket(session, text) {
    let rest = text.slice(1);
    const type = Number(text.charAt(0));
    let attachments = 0;
    if (type === 5 || type === 6) {
      const dash = rest.indexOf("-");
      attachments = Number(rest.slice(0, dash));
      rest = rest.slice(dash + 1);
    }
    let nsp = "/";
    if (rest.charAt(0) === "/") {
      const comma = rest.indexOf(",");
      nsp = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? "" : rest.slice(comma + 1);
    }
    const idMatch = /^\d+/.exec(rest);
    const id = idMatch ? Number(idMatch[0]) : null;
    rest = rest.slice(idMatch ? idMatch[0].length : 0);
    const data = rest ? JSON.parse(rest) : undefined;
    const packet = { type, nsp, id, data, attachments, buffers: [] };
    if (attachments) {
      session.pending = packet;
    } else {
      this.dispatch(session, packet);
    }
  }

  onBinary(session, buffer) {
    const packet = session.pending;
    packet.buffers.push(buffer);
    if (packet.buffers.length === packet.attachments) {
      session.pending = null;
      const fill = (v) => {
        if (v && typeof v === "object") {
          if (v._placeholder) {
            return packet.buffers[v.num];
          }
          for (const k of Object.keys(v)) {
            v[k] = fill(v[k]);
          }
        }
        return v;
      };
      packet.data = fill(packet.data);
      this.dispatch(session, packet);
    }
  }

  dispatch(session, packet) {
    const prefix = packet.nsp === "/" ? "" : packet.nsp + ",";
    if (packet.type === 0) {
      const refusal = this.refuse(packet.nsp, packet.data);
      if (refusal) {
        this.push(session, "44" + prefix + JSON.stringify(refusal));
        return;
      }
      const socketId = "id" + ++this.counter;
      session.nsps.set(packet.nsp, { id: socketId, auth: packet.data });
      this.push(session, "40" + prefix + JSON.stringify(this.answer(socketId, packet.data, session)));
    } else if (packet.type === 1) {
      session.nsps.delete(packet.nsp);
    } else if (packet.type === 2 || packet.type === 5) {
      const [event, ...args] = packet.data;
      const handler = this.handlers[event];
      const answer = handler ? handler({ session, nsp: packet.nsp, server: this }, ...args) : undefined;
      if (packet.id !== null && answer !== undefined) {
        this.emitRaw(session, packet.nsp, answer, packet.id);
      }
    }
  }

  // Sends an EVENT (id null) or ACK with Buffers turned into attachments.
  emitRaw(session, nsp, args, ackId) {
    const buffers = [];
    const strip = (v) => {
      if (Buffer.isBuffer(v)) {
        buffers.push(v);
        return { _placeholder: true, num: buffers.length - 1 };
      }
      if (Array.isArray(v)) {
        return v.map(strip);
      }
      if (v && typeof v === "object") {
        const out = {};
        for (const k of Object.keys(v)) {
          out[k] = strip(v[k]);
        }
        return out;
      }
      return v;
    };
    const json = JSON.stringify(strip(args));
    const isAck = ackId !== undefined;
    let text = buffers.length ? (isAck ? "6" : "5") + buffers.length + "-" : isAck ? "3" : "2";
    text += (nsp === "/" ? "" : nsp + ",") + (isAck ? ackId : "") + json;
    this.push(session, "4" + text);
    for (const b of buffers) {
      this.push(session, b);
    }
  }

  emit(nsp, ...args) {
    for (const session of this.sessions.values()) {
      if (session.nsps.has(nsp)) {
        this.emitRaw(session, nsp, args);
      }
    }
  }

  disconnectAll(nsp) {
    for (const session of this.sessions.values()) {
      if (session.nsps.delete(nsp)) {
        this.push(session, "41" + (nsp === "/" ? "" : nsp + ","));
      }
    }
  }

  // --- transports as seen from the client's sandbox ---

  install(context) {
    const server = this;

    function FakeWebSocket(url) {
      const ws = this;
      const query = parseQuery(url);
      ws.url = url;
      ws.readyState = 0;
      ws.deliver = (packet) => {
        setTimeout(() => {
          if (ws.readyState === 1 && ws.onmessage) {
            const data = typeof packet === "string" ? packet : toSandboxBuffer(context, packet);
            try {
              ws.onmessage({ data });
            } catch (e) {
              // What a browser would print to the console.
              if (!server.uncaught) {
                throw e;
              }
              server.uncaught.push(e.message);
            }
          }
        }, 0);
      };
      ws.serverClose = () => {
        ws.readyState = 3;
        setTimeout(() => ws.onclose && ws.onclose({ code: 1006 }), 0);
      };
      setTimeout(() => {
        if (server.down || (query.sid && !server.sessions.has(query.sid))) {
          ws.readyState = 3;
          if (ws.onerror) ws.onerror({});
          if (ws.onclose) ws.onclose({ code: 1006 });
          return;
        }
        ws.readyState = 1;
        if (ws.onopen) ws.onopen();
        if (query.sid) {
          ws.session = server.sessions.get(query.sid);
          ws.session.probing = ws;
        } else {
          ws.session = server.open("websocket");
          ws.session.ws = ws;
          ws.deliver(server.handshake(ws.session));
        }
      }, 0);
    }
    FakeWebSocket.prototype.send = function (data) {
      const frame = typeof data === "string" ? data : Buffer.from(new Uint8Array(data));
      setTimeout(() => server.receive(this.session, frame), 0);
    };
    FakeWebSocket.prototype.close = function () {
      this.readyState = 3;
    };

    function FakeXHR() {
      this.readyState = 0;
      this.withCredentials = false;
    }
    FakeXHR.prototype.open = function (method, url) {
      this.method = method;
      this.url = url;
    };
    FakeXHR.prototype.setRequestHeader = function () {};
    FakeXHR.prototype.send = function (body) {
      const xhr = this;
      const query = parseQuery(xhr.url);
      const respond = (status, text) => {
        setTimeout(() => {
          xhr.readyState = 4;
          xhr.status = status;
          xhr.responseText = text;
          xhr.onreadystatechange();
        }, 0);
      };
      setTimeout(() => {
        if (server.down) {
          return respond(0, "");
        }
        if (!query.sid) {
          const session = server.open("polling");
          return respond(200, server.handshake(session));
        }
        const session = server.sessions.get(query.sid);
        if (!session) {
          return respond(400, "{\"code\":1}");
        }
        if (xhr.method === "POST") {
          server.postBodies.push(body);
          for (const packet of body.split("\x1e")) {
            server.receive(session, packet);
          }
          return respond(200, "ok");
        }
        if (session.queue.length) {
          return respond(200, server.drain(session));
        }
        session.parked = (status) => respond(status || 200, status ? "" : server.drain(session));
      }, 0);
    };

    context.WebSocket = FakeWebSocket;
    context.XMLHttpRequest = FakeXHR;
    context.location = { protocol: "http:", host: "example.test", hostname: "example.test", port: "" };
  }
}

function toSandboxBuffer(context, buffer) {
  context.__incoming = Array.from(buffer);
  return vm.runInContext(
    "(function(a){var b=new Uint8Array(a.length);for(var i=0;i<a.length;i++){b[i]=a[i];}return b.buffer;})(__incoming)",
    context
  );
}

module.exports = { FakeServer };
