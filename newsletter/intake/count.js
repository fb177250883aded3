// The summary's live count of characters left (intake/web.py): the limit is also
// written under the box, so the form works the same without this script.
(function () {
  var box = document.getElementById("summary");
  var note = document.getElementById("summary-count");
  if (!box || !note) { return; }
  var most = parseInt(box.getAttribute("data-max"), 10);
  function update() {
    var left = most - box.value.length;
    note.textContent = left >= 0
      ? left + " characters left."
      : (-left) + " characters too many: shorten it to " + most + ".";
  }
  box.addEventListener("input", update);
  update();
}());
