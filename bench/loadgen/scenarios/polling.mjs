// polling-echo: N clients on long-polling only, closed loop. Like a real
// client, each keeps one GET parked at all times (its own keep-alive socket)
// and POSTs on a second socket; the echo comes back on the parked GET.
import { performance } from "node:perf_hooks";
import { HttpConn } from "../httpclient.mjs";
import { ClosedLoop } from "../metrics.mjs";

const TEXT = "the quick brown fox jumps over the lazy dog";
const SEP = "\x1e";
const ECHO_PREFIX = '42["echo",';

class PollingClient {
  constructor(port, hooks) {
    this.port = port;
    this.hooks = hooks;
    this.getConn = new HttpConn(port);
    this.postConn = new HttpConn(port);
    this.path = "";
    this.outbox = [];
    this.posting = false;
    this.stopped = false;
    this.connected = null;
  }

  async connect() {
    const open = await this.getConn.request("GET", "/socket.io/?EIO=4&transport=polling");
    if (open.status !== 200 || open.body[0] !== "0") {
      throw new Error(`handshake ${open.status}: ${open.body.slice(0, 120)}`);
    }
    const sid = JSON.parse(open.body.slice(1)).sid;
    this.path = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    const connected = new Promise((resolve) => {
      this.connected = resolve;
    });
    this.post("40");
    this.pollLoop();
    await connected;
  }

  async pollLoop() {
    while (!this.stopped) {
      let res;
      try {
        res = await this.getConn.request("GET", this.path);
      } catch (err) {
        if (!this.stopped) this.hooks.error(`GET: ${err.message}`);
        return;
      }
      if (res.status !== 200) {
        this.hooks.error(`GET ${res.status}: ${res.body.slice(0, 120)}`);
        return;
      }
      for (const packet of res.body.split(SEP)) this.onPacket(packet);
    }
  }

  onPacket(packet) {
    if (packet === "2") {
      this.post("3");
    } else if (packet.startsWith(ECHO_PREFIX)) {
      this.hooks.echo(this, packet);
    } else if (packet.startsWith("40") && this.connected !== null) {
      this.connected();
      this.connected = null;
    }
  }

  post(packet) {
    this.outbox.push(packet);
    if (!this.posting) this.flush();
  }

  async flush() {
    this.posting = true;
    while (this.outbox.length > 0 && !this.postConn.closed) {
      const body = this.outbox.join(SEP);
      this.outbox = [];
      try {
        const res = await this.postConn.request("POST", this.path, body);
        if (res.status !== 200) this.hooks.error(`POST ${res.status}: ${res.body.slice(0, 120)}`);
      } catch (err) {
        if (!this.stopped) this.hooks.error(`POST: ${err.message}`);
      }
    }
    this.posting = false;
  }

  close() {
    this.stopped = true;
    this.getConn.close();
    this.postConn.close();
  }
}

export async function runPolling(opts, server) {
  const loop = new ClosedLoop(server);
  const errors = {};
  let mismatches = 0;
  const error = (msg) => {
    errors[msg] = (errors[msg] || 0) + 1;
  };

  const sendNext = (client) => {
    client.seq += 1;
    client.sentAt = performance.now();
    loop.sent();
    client.post(`42["echo",{"n":${client.seq},"s":"${TEXT}"}]`);
  };
  const echo = (client, packet) => {
    const now = performance.now();
    const payload = JSON.parse(packet.slice(2));
    if (payload[1].n !== client.seq || payload[1].s !== TEXT) mismatches += 1;
    if (loop.answered(now - client.sentAt)) sendNext(client);
  };

  const clients = [];
  for (let i = 0; i < opts.clients; i += 1) {
    const client = new PollingClient(opts.port, { echo, error });
    client.seq = 0;
    client.sentAt = 0;
    clients.push(client);
  }
  await Promise.all(clients.map((c) => c.connect()));
  for (const c of clients) sendNext(c);
  const win = await loop.run(opts);
  for (const c of clients) c.close();
  return {
    clients: clients.length,
    ...loop.result(win),
    mismatches,
    errors,
    ...win,
  };
}
