// A Socket.IO socket: one namespace over a Manager's connection.
// Local events: "connect", "connect_error", "disconnect" (reason), plus every
// event the server emits.
// Connection state recovery (socket.io 4.x): a server that offers it names a
// session (pid) in its CONNECT answer and ends each stored broadcast with its
// offset; a reconnecting socket sends both back and, when the server still
// holds the session, gets the same id and what it missed (recovered is true).

function Socket(io, nsp, opts) {
  opts = opts || {};
  this.io = io;
  this.nsp = nsp;
  this.id = undefined;
  this.connected = false;
  this.disconnected = true;
  this.recovered = false;
  this.ids = 0;
  this.acks = {};
  this.receiveBuffer = [];
  this.sendBuffer = [];
  this.flags = {};
  this.subs = null;
  this.auth = opts.auth;
  this.ackTimeout = opts.ackTimeout;
  this.anyListeners = [];
  if (io.autoConnect) {
    this.connect();
  }
}

inherit(Socket, Emitter);

Socket.prototype.active = function () {
  return !!this.subs;
};

Socket.prototype.subscribe = function () {
  if (this.subs) {
    return;
  }
  var self = this;
  var io = this.io;
  this.subs = [
    listen(io, "open", function () {
      self.onopen();
    }),
    listen(io, "packet", function (packet) {
      self.onpacket(packet);
    }),
    listen(io, "error", function (error) {
      if (!self.connected) {
        self.fire("connect_error", error);
      }
    }),
    listen(io, "close", function (reason, details) {
      self.onclose(reason, details);
    })
  ];
};

Socket.prototype.connect = function () {
  if (this.connected) {
    return this;
  }
  this.subscribe();
  if (!this.io.reconnecting) {
    this.io.open();
  }
  if (this.io.readyState === "open") {
    this.onopen();
  }
  return this;
};

Socket.prototype.open = Socket.prototype.connect;

Socket.prototype.send = function () {
  var args = toArray(arguments);
  args.unshift("message");
  return this.emit.apply(this, args);
};

// emit(event, ...args[, ack]): sent now when connected, buffered otherwise.
Socket.prototype.emit = function (event) {
  if (hasOwn.call(RESERVED_EVENTS, event)) {
    throw new Error("\"" + event + "\" is a reserved event name");
  }
  var args = toArray(arguments);
  var packet = { type: EVENT, data: args };
  if (typeof args[args.length - 1] === "function") {
    var id = this.ids++;
    this.registerAck(id, args.pop());
    packet.id = id;
  }
  this.flags = {};
  if (this.connected) {
    this.packet(packet);
  } else {
    this.sendBuffer.push(packet);
  }
  return this;
};

// With a timeout (timeout(ms) or the ackTimeout option) the callback gets an
// error first: (err, ...answer), err being null when the answer came in time.
Socket.prototype.registerAck = function (id, ack) {
  var self = this;
  var timeout = this.flags.timeout !== undefined ? this.flags.timeout : this.ackTimeout;
  if (timeout === undefined) {
    this.acks[id] = ack;
    return;
  }
  var timer = setTimeout(function () {
    delete self.acks[id];
    for (var i = 0; i < self.sendBuffer.length; i++) {
      if (self.sendBuffer[i].id === id) {
        self.sendBuffer.splice(i, 1);
        break;
      }
    }
    ack.call(self, new Error("operation has timed out"));
  }, timeout);
  var wrapped = function () {
    clearTimeout(timer);
    var args = toArray(arguments);
    args.unshift(null);
    ack.apply(self, args);
  };
  wrapped.withError = function (error) {
    clearTimeout(timer);
    ack.call(self, error);
  };
  this.acks[id] = wrapped;
};

Socket.prototype.timeout = function (ms) {
  this.flags.timeout = ms;
  return this;
};

Socket.prototype.packet = function (packet) {
  packet.nsp = this.nsp;
  this.io.packet(packet);
};

Socket.prototype.onopen = function () {
  var self = this;
  if (typeof this.auth === "function") {
    this.auth(function (data) {
      self.sendConnect(data);
    });
  } else {
    this.sendConnect(this.auth);
  }
};

Socket.prototype.sendConnect = function (data) {
  if (this.pid) {
    data = extend({ pid: this.pid, offset: this.lastOffset }, data);
  }
  this.packet({ type: CONNECT, data: data });
};

Socket.prototype.onclose = function (reason, details) {
  var wasConnected = this.connected;
  this.connected = false;
  this.disconnected = true;
  this.id = undefined;
  this.clearAcks();
  if (wasConnected) {
    this.fire("disconnect", reason, details);
  }
};

// Answers that can no longer come: callbacks waiting with a timeout learn it
// now instead of when their timer ends.
Socket.prototype.clearAcks = function () {
  for (var id in this.acks) {
    if (hasOwn.call(this.acks, id) && this.acks[id].withError) {
      var inBuffer = false;
      for (var i = 0; i < this.sendBuffer.length; i++) {
        if (String(this.sendBuffer[i].id) === id) {
          inBuffer = true;
        }
      }
      if (!inBuffer) {
        var ack = this.acks[id];
        delete this.acks[id];
        ack.withError(new Error("socket has been disconnected"));
      }
    }
  }
};

Socket.prototype.onpacket = function (packet) {
  if (packet.nsp !== this.nsp) {
    return;
  }
  switch (packet.type) {
    case CONNECT:
      if (packet.data && packet.data.sid) {
        this.onconnect(packet.data.sid, packet.data.pid);
      } else {
        this.fire("connect_error", new Error("invalid connect answer (not a Socket.IO v3+ server?)"));
      }
      break;
    case EVENT:
    case BINARY_EVENT:
      this.onevent(packet);
      break;
    case ACK:
    case BINARY_ACK:
      var ack = this.acks[packet.id];
      if (typeof ack === "function") {
        delete this.acks[packet.id];
        ack.apply(this, packet.data);
      }
      break;
    case DISCONNECT:
      this.destroy();
      this.onclose("io server disconnect");
      break;
    case CONNECT_ERROR:
      this.destroy();
      var data = packet.data;
      var error = new Error(typeof data === "string" ? data : data.message);
      error.data = data.data;
      this.fire("connect_error", error);
      break;
  }
};

Socket.prototype.onevent = function (packet) {
  var args = packet.data || [];
  if (packet.id != null) {
    args.push(this.ack(packet.id));
  }
  if (this.connected) {
    this.emitEvent(args);
  } else {
    this.receiveBuffer.push(args);
  }
};

Socket.prototype.emitEvent = function (args) {
  var any = this.anyListeners.slice(0);
  for (var i = 0; i < any.length; i++) {
    any[i].apply(this, args);
  }
  Emitter.prototype.emit.apply(this, args);
  var last = args[args.length - 1];
  if (this.pid && typeof last === "string") {
    this.lastOffset = last;
  }
};

Socket.prototype.onAny = function (fn) {
  this.anyListeners.push(fn);
  return this;
};

Socket.prototype.offAny = function (fn) {
  if (!fn) {
    this.anyListeners = [];
  } else {
    var i = indexOf(this.anyListeners, fn);
    if (i >= 0) {
      this.anyListeners.splice(i, 1);
    }
  }
  return this;
};

// The function handed to a handler whose event asked for an answer; only its
// first call is sent.
Socket.prototype.ack = function (id) {
  var self = this;
  var sent = false;
  return function () {
    if (sent) {
      return;
    }
    sent = true;
    self.packet({ type: ACK, id: id, data: toArray(arguments) });
  };
};

Socket.prototype.onconnect = function (id, pid) {
  this.id = id;
  this.recovered = !!pid && pid === this.pid;
  this.pid = pid;
  this.connected = true;
  this.disconnected = false;
  var i;
  for (i = 0; i < this.receiveBuffer.length; i++) {
    this.emitEvent(this.receiveBuffer[i]);
  }
  this.receiveBuffer = [];
  for (i = 0; i < this.sendBuffer.length; i++) {
    this.packet(this.sendBuffer[i]);
  }
  this.sendBuffer = [];
  this.fire("connect");
};

Socket.prototype.destroy = function () {
  if (this.subs) {
    for (var i = 0; i < this.subs.length; i++) {
      this.subs[i]();
    }
    this.subs = null;
  }
  this.io.destroySocket(this);
};

Socket.prototype.disconnect = function () {
  if (this.connected) {
    this.packet({ type: DISCONNECT });
  }
  this.destroy();
  if (this.connected) {
    this.onclose("io client disconnect");
  }
  return this;
};

Socket.prototype.close = Socket.prototype.disconnect;
