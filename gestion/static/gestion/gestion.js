// Back-office: the autocomplete boxes (select2, from Django's admin) are named by their
// field's label for assistive technologies; select2 alone names them by their current
// value, which is empty on an add page (axe-core: aria-input-field-name).
window.addEventListener("load", function () {
  document.querySelectorAll(".select2-selection[role=combobox]").forEach(function (boite) {
    var conteneur = boite.closest(".select2-container");
    var select = conteneur && conteneur.previousElementSibling;
    if (!select || !select.id) return;
    var etiquette = document.querySelector('label[for="' + select.id + '"]');
    if (!etiquette) return;
    if (!etiquette.id) etiquette.id = select.id + "-etiquette";
    var noms = (boite.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    if (noms.indexOf(etiquette.id) === -1) {
      boite.setAttribute("aria-labelledby", [etiquette.id].concat(noms).join(" "));
    }
    // The box's text (role=textbox, read-only) is named by the label as well.
    var texte = boite.querySelector(".select2-selection__rendered[role=textbox]");
    if (texte) texte.setAttribute("aria-labelledby", etiquette.id);
  });
});

// A block that scrolls sideways (an inline table on a phone) can be reached and scrolled
// with the keyboard, named by its heading (axe-core: scrollable-region-focusable).
window.addEventListener("load", function () {
  document.querySelectorAll(".inline-group, .results, .gestion-defilant").forEach(function (bloc) {
    if (bloc.scrollWidth <= bloc.clientWidth || bloc.hasAttribute("tabindex")) return;
    bloc.setAttribute("tabindex", "0");
    if (!bloc.hasAttribute("role")) bloc.setAttribute("role", "region");
    var titre = bloc.querySelector("h2");
    if (titre && !bloc.hasAttribute("aria-labelledby") && !bloc.hasAttribute("aria-label")) {
      if (!titre.id) titre.id = (bloc.id || "bloc") + "-titre";
      bloc.setAttribute("aria-labelledby", titre.id);
    }
  });
});
