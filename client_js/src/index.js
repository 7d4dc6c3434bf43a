// The public face: realtime.connect(url, opts) returns a Socket; sockets of
// one server share a Manager (and so one connection) unless forceNew is set
// or the namespace is already open on it.

var managers = {};

function connect(uri, opts) {
  if (typeof uri === "object" && uri !== null) {
    opts = uri;
    uri = undefined;
  }
  opts = opts || {};
  var target = parseUrl(uri);
  var cached = managers[target.id];
  var manager;
  if (opts.forceNew || opts.multiplex === false ||
      (cached && hasOwn.call(cached.nsps, target.path))) {
    manager = new Manager(target, opts);
  } else {
    manager = cached || (managers[target.id] = new Manager(target, opts));
  }
  return manager.socket(target.path, opts);
}

connect.connect = connect;
connect.Manager = Manager;
connect.Socket = Socket;
connect.managers = managers;
connect.protocol = 5;
connect.version = VERSION;
// The codecs, for tests and for tools that speak the protocol themselves.
connect.parser = {
  encodeEnginePacket: encodeEnginePacket,
  decodeEnginePacket: decodeEnginePacket,
  encodeEnginePayload: encodeEnginePayload,
  decodeEnginePayload: decodeEnginePayload,
  encodeSocketPacket: encodeSocketPacket,
  SocketDecoder: SocketDecoder,
  encodeBase64: encodeBase64,
  decodeBase64: decodeBase64,
  fallbackJSON: fallbackJSON,
  parseUrl: parseUrl
};
