// The new-campaign page: once S3 has taken the upload (its redirect loads uploaded.html into
// the frame), verify it at once. Without JavaScript the person presses the button.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var frame = document.getElementById("upload-result");
    var verify = document.getElementById("verify-form");
    if (!frame || !verify) { return; }
    frame.addEventListener("load", function () {
      var path = "";
      try { path = frame.contentWindow.location.pathname; } catch (e) { return; }
      if (/\/uploaded\.html$/.test(path)) { verify.submit(); }
    });
  });
})();
