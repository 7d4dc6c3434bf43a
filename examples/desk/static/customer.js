// The customer's page: start a conversation, wait for an agent, talk.
(function () {
  var $ = desk.$;
  var company = desk.company();
  var tokenKey = "realtime-desk-customer-" + company;
  var socket = null;
  var nextCid = 1;

  function setState(status) {
    var words;
    if (status.state === "waiting") {
      words = "Waiting for an agent: you are number " + status.position + " in the queue.";
    } else if (status.state === "open") {
      words = "You are talking with " + status.agent + ".";
    } else {
      words = "This conversation is closed. Write again to reopen it.";
    }
    desk.text($("state"), words);
    $("state").className = "state " + status.state;
  }

  function render(view) {
    var list = $("messages");
    desk.clear(list);
    for (var i = 0; i < view.history.length; i++) {
      list.appendChild(desk.messageItem(view.history[i], view.history[i].sender === "customer"));
    }
    list.scrollTop = list.scrollHeight;
    desk.show("start", !view.state);
    desk.show("chat", !!view.state);
  }

  function connect() {
    socket = realtime.connect("/desk/" + company, desk.options(function (send) {
      send({ as: "customer", token: desk.load(tokenKey) });
    }));
    desk.watch(socket);
    socket.on("identity", function (data) {
      desk.save(tokenKey, data.token);
      desk.text($("company"), data.company);
      document.title = data.company + " support";
    });
    socket.on("connect", function () {
      socket.emit("resume", render);
    });
    socket.on("connect_error", function (error) {
      desk.problem("Cannot connect: " + (error && error.message) + ". Retrying\u2026");
    });
    socket.on("status", setState);
    socket.on("message", function (line) {
      desk.append($("messages"), desk.messageItem(line, line.sender === "customer"));
      if (line.sender !== "customer") {
        desk.text($("typing"), "\u00a0");
      }
    });
    socket.on("typing", function (signal) {
      desk.text($("typing"), signal.on ? signal.who + " is typing\u2026" : "\u00a0");
    });
  }

  $("start").onsubmit = function () {
    var name = desk.strip($("name").value);
    if (!name) {
      desk.text($("start-error"), "Please give your name.");
      return false;
    }
    $("start-button").disabled = true;
    socket.emit("start", name, function (view) {
      $("start-button").disabled = false;
      if (view.error) {
        desk.text($("start-error"), view.error);
        return;
      }
      render(view);
      $("text").focus();
    });
    return false;
  };

  var typing = desk.typingSender(function (on) {
    socket.emit("typing", on);
  });
  $("text").onkeydown = typing;

  $("composer").onsubmit = function () {
    var value = desk.strip($("text").value);
    if (value) {
      $("send").disabled = true;
      socket.emit("say", value, "c" + nextCid++, function (answer) {
        $("send").disabled = false;
        if (answer.error) {
          desk.text($("error"), answer.error);
          return;
        }
        desk.text($("error"), "");
        $("text").value = "";
      });
    }
    $("text").focus();
    return false;
  };

  connect();
})();
