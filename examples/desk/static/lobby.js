// The lobby: a new company, with its admin, then on to its agents' page.
(function () {
  var $ = desk.$;
  var socket = realtime.connect("/desk", desk.options(null));
  desk.watch(socket);

  $("create").onsubmit = function () {
    var form = {
      slug: desk.strip($("slug").value).toLowerCase(),
      name: desk.strip($("company").value),
      admin: desk.strip($("admin").value),
      password: $("password").value
    };
    $("create-button").disabled = true;
    socket.emit("create_company", form, function (answer) {
      $("create-button").disabled = false;
      if (answer.error) {
        desk.text($("create-error"), answer.error);
        return;
      }
      window.location.href = answer.url;
    });
    return false;
  };
})();
