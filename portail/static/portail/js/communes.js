// Progressive enhancement of the commune choice: narrow the list while typing.
// Without JavaScript the « Rechercher » button narrows it on the server.
(function () {
  "use strict";
  var recherche = document.querySelector("[data-filtre-communes]");
  var liste = document.getElementById("id_commune");
  var statut = document.getElementById("communes-statut");
  if (!recherche || !liste || !statut) {
    return;
  }
  // Keep every option in memory: the server may have sent a narrowed list.
  var groupes = Array.prototype.map.call(liste.querySelectorAll("optgroup"), function (groupe) {
    return { element: groupe, options: Array.prototype.slice.call(groupe.children) };
  });

  function normaliser(texte) {
    return texte.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var minuterie = null;
  function filtrer() {
    var terme = normaliser(recherche.value.trim());
    var total = 0;
    groupes.forEach(function (groupe) {
      var visibles = 0;
      groupe.options.forEach(function (option) {
        var garde = !terme || option.selected || normaliser(option.text).indexOf(terme) !== -1;
        if (garde && option.parentNode !== groupe.element) {
          groupe.element.appendChild(option);
        } else if (!garde && option.parentNode === groupe.element) {
          groupe.element.removeChild(option);
        }
        visibles += garde ? 1 : 0;
      });
      groupe.element.hidden = visibles === 0;
      total += visibles;
    });
    clearTimeout(minuterie);
    // Announce the count once typing pauses, not at every key.
    minuterie = setTimeout(function () {
      statut.textContent = total + (total > 1 ? " communes proposées" : " commune proposée") +
        (terme ? " pour « " + recherche.value.trim() + " »." : ".");
    }, 400);
  }

  recherche.addEventListener("input", filtrer);
  recherche.addEventListener("keydown", function (evenement) {
    // Enter filters in place instead of submitting the whole form.
    if (evenement.key === "Enter") {
      evenement.preventDefault();
      filtrer();
      liste.focus();
    }
  });
})();
