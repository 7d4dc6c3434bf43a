// Loaded into every test page: small promise helpers around the client.
window.harness = {
  sockets: [],
  connect: function (url, opts) {
    var socket = realtime.connect(url, opts);
    window.harness.sockets.push(socket);
    return socket;
  },
  next: function (emitter, event, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error("no " + event + " within " + (ms || 10000) + " ms"));
      }, ms || 10000);
      emitter.once(event, function () {
        clearTimeout(timer);
        resolve(Array.prototype.slice.call(arguments));
      });
    });
  },
  call: function (socket, event, args) {
    return new Promise(function (resolve) {
      socket.emit.apply(socket, [event].concat(args || []).concat([function () {
        resolve(Array.prototype.slice.call(arguments));
      }]));
    });
  },
  bytes: function (value) {
    return Array.prototype.slice.call(new Uint8Array(value));
  },
  transport: function (socket) {
    return socket.io.engine.transport.name;
  }
};
