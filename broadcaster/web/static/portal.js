// The station portal's two small helpers; without them the page still works (native audio controls, the link to copy by hand).
document.addEventListener("click", (event) => {
  const play = event.target.closest("[data-play]");
  if (play) {
    const audio = document.getElementById(play.dataset.play);
    if (audio.paused) { audio.play(); } else { audio.pause(); }
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const field = document.getElementById(copy.dataset.copy);
    field.select();
    const done = () => { copy.textContent = copy.dataset.copied; };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(field.value).then(done); }
    else if (document.execCommand("copy")) { done(); }
  }
});
// One tap plays and the same button pauses: its words follow the audio.
document.querySelectorAll("[data-play]").forEach((button) => {
  const audio = document.getElementById(button.dataset.play);
  const playing = button.dataset.pause;
  const idle = button.textContent;
  audio.addEventListener("play", () => { button.textContent = playing; });
  audio.addEventListener("pause", () => { button.textContent = idle; });
  audio.addEventListener("ended", () => { button.textContent = idle; });
});
