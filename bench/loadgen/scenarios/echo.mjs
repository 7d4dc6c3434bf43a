// ws-echo and ws-ack: N clients in a closed loop, one message in flight each.
import { performance } from "node:perf_hooks";
import { ClosedLoop } from "../metrics.mjs";
import { closeAll, connectMany, connectWs } from "../wsclient.mjs";

const TEXT = "the quick brown fox jumps over the lazy dog";
const CHECKED_REPLIES = 64; // per client: these are parsed and compared in full

export async function runEcho(opts, server, { ack }) {
  const { conns, failures, errors } = await connectMany(opts.clients, 50, () =>
    connectWs(opts.port),
  );
  if (conns.length === 0) throw new Error(`no client connected: ${JSON.stringify(errors)}`);
  const loop = new ClosedLoop(server);
  let mismatches = 0;

  const startClient = (conn) => {
    let seq = 0;
    let sentAt = 0;
    let expectPrefix = "";
    const sendNext = () => {
      seq += 1;
      const body = `{"n":${seq},"s":"${TEXT}"}`;
      let frame;
      if (ack) {
        frame = `42${seq}["echo_ack",${body}]`;
        expectPrefix = `43${seq}[`;
      } else {
        frame = `42["echo",${body}]`;
        expectPrefix = '42["echo",';
      }
      loop.sent();
      sentAt = performance.now();
      conn.send(frame);
    };
    conn.onPacket = (text) => {
      if (!text.startsWith(expectPrefix)) {
        mismatches += 1;
        return; // not our answer: keep waiting for it
      }
      const now = performance.now();
      if (seq <= CHECKED_REPLIES) {
        // ack: 43<id>[data]; event: 42["echo",data]
        const got = ack ? JSON.parse(text.slice(expectPrefix.length - 1))[0] : JSON.parse(text.slice(2))[1];
        if (got.n !== seq || got.s !== TEXT) mismatches += 1;
      }
      if (loop.answered(now - sentAt)) sendNext();
    };
    sendNext();
  };

  for (const conn of conns) startClient(conn);
  const win = await loop.run(opts);
  closeAll(conns);
  return {
    clients: conns.length,
    connect_failures: failures,
    connect_errors: errors,
    ...loop.result(win),
    mismatches,
    ...win,
  };
}
