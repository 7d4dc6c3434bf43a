// The socket.io-client face of the client, built into socket.io.js only:
// the global io of pages written for a Node socket.io server, with what
// socket.io-client 1.x and 2.x did that 4.x no longer does.

// 1.x/2.x told every socket of a manager what the manager went through.
var MANAGER_EVENTS = ("reconnect reconnect_attempt reconnecting reconnect_error " +
  "reconnect_failed ping connect_timeout").split(" ");

// Names 1.x/2.x emitted locally when a page emitted them, instead of sending.
var LOCAL_EVENTS = extend({ connecting: 1, error: 1, pong: 1 }, RESERVED_EVENTS);
for (var m = 0; m < MANAGER_EVENTS.length; m++) {
  LOCAL_EVENTS[MANAGER_EVENTS[m]] = 1;
}

function io(uri, opts) {
  if (typeof uri === "string") {
    uri = uri.replace(/^ws(s?):/i, "http$1:");
  }
  if (opts && opts["force new connection"]) {
    opts = extend({ forceNew: true }, opts);
  }
  return connect(uri, opts);
}

extend(io, connect);
io.connect = io;

// 2.x fired reconnecting beside reconnect_attempt, with the same number.
var fireAttempt = Manager.prototype.fire;
Manager.prototype.fire = function (event, value) {
  fireAttempt.apply(this, arguments);
  if (event === "reconnect_attempt") {
    fireAttempt.call(this, "reconnecting", value);
  } else if (event === "error" && value && value.message === "timeout") {
    fireAttempt.call(this, "connect_timeout", this.timeoutMs);
  }
};

var subscribe = Socket.prototype.subscribe;
Socket.prototype.subscribe = function () {
  if (this.subs) {
    return;
  }
  subscribe.call(this);
  var self = this;
  function forward(event) {
    self.subs.push(listen(self.io, event, function () {
      var args = toArray(arguments);
      args.unshift(event);
      self.fire.apply(self, args);
    }));
  }
  for (var i = 0; i < MANAGER_EVENTS.length; i++) {
    forward(MANAGER_EVENTS[i]);
  }
  // A connection error after the socket connected was "error" in 1.x/2.x.
  this.subs.push(listen(this.io, "error", function (error) {
    if (self.connected) {
      self.fire("error", error);
    }
  }));
};

var openSocket = Socket.prototype.connect;
Socket.prototype.connect = Socket.prototype.open = function () {
  openSocket.call(this);
  if (!this.connected) {
    this.fire("connecting");
  }
  return this;
};

// A refused namespace was "error" with the server's data in 1.x/2.x.
var onpacket = Socket.prototype.onpacket;
Socket.prototype.onpacket = function (packet) {
  onpacket.call(this, packet);
  var data = packet.data;
  if (packet.nsp === this.nsp && packet.type === CONNECT_ERROR) {
    this.fire("error", typeof data === "string" ? data
      : data.data !== undefined ? data.data : data.message);
  }
};

var send = Socket.prototype.emit;
Socket.prototype.emit = function (event) {
  return (hasOwn.call(LOCAL_EVENTS, event) ? this.fire : send).apply(this, arguments);
};

// 2.x flags that change nothing here: compression is the transport's choice,
// and binary is detected.
Socket.prototype.compress = Socket.prototype.binary = function () {
  return this;
};
