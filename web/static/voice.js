// The edit page's recorder: where the browser can record (MediaRecorder and a
// microphone), record a voice, hear it, and put it in the form's file field, so the
// same form sends it as it would a chosen file. Elsewhere the recorder stays hidden
// and a file is chosen instead.
(function () {
  "use strict";
  var box = document.getElementById("voice-recorder");
  var input = document.getElementById("field-voice");
  if (!box || !input) return;
  var supported = window.MediaRecorder && window.DataTransfer && navigator.mediaDevices &&
    navigator.mediaDevices.getUserMedia;
  // WebM or Ogg with Opus only: what some browsers record otherwise (fragmented MP4)
  // is not accepted, so there a file is chosen instead.
  var kinds = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg"];
  var type = supported && kinds.filter(function (k) { return MediaRecorder.isTypeSupported(k); })[0];
  if (!type) return;
  box.hidden = false;
  var start = box.querySelector("[data-record]");
  var stop = box.querySelector("[data-stop]");
  var status = box.querySelector("[data-status]");
  var preview = box.querySelector("audio");
  var recorder = null;
  function extension(type) {
    if (type.indexOf("ogg") >= 0) return "ogg";
    return "webm";
  }

  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var chunks = [];
      recorder = new MediaRecorder(stream, { mimeType: type });
      recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) chunks.push(event.data);
      });
      recorder.addEventListener("stop", function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        var mime = recorder.mimeType || type;
        var blob = new Blob(chunks, { type: mime });
        var files = new DataTransfer();
        files.items.add(new File([blob], "recording." + extension(mime), { type: mime }));
        input.files = files.files;
        preview.src = URL.createObjectURL(blob);
        preview.hidden = false;
        status.textContent = box.dataset.recorded;
        start.disabled = false;
        stop.disabled = true;
      });
      recorder.start(1000);
      status.textContent = box.dataset.recording;
      start.disabled = true;
      stop.disabled = false;
    }, function () {
      status.textContent = box.dataset.denied;
    });
  });
  stop.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  });
})();
