// Home page charts (Chart.js served locally). The same figures are in the data tables.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  var BLEU = "#000091";
  var ROUGE = "#c9191e";
  Chart.defaults.font.family = "Marianne, arial, sans-serif";
  Chart.defaults.color = "#3a3a3a";

  function lire(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Long labels on several lines (Chart.js draws an array as one line per item).
  function couper(libelle, largeur) {
    var lignes = [];
    var ligne = "";
    libelle.split(" ").forEach(function (mot) {
      if (ligne && (ligne + " " + mot).length > largeur) {
        lignes.push(ligne);
        ligne = mot;
      } else {
        ligne = ligne ? ligne + " " + mot : mot;
      }
    });
    if (ligne) {
      lignes.push(ligne);
    }
    return lignes;
  }

  function barres(canvasId, libelles, valeurs, couleur, legende) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !libelles.length) {
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: libelles.map(function (libelle) { return couper(libelle, 28); }),
        datasets: [{ label: legende, data: valeurs, backgroundColor: couleur }],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  var regions = lire("donnees-graphique-regions");
  if (regions) {
    barres("graphique-regions", regions.libelles, regions.investissement_millions, BLEU,
      "Investissement (M€)");
  }
  var dispositifs = lire("donnees-graphique-dispositifs");
  if (dispositifs) {
    barres("graphique-dispositifs", dispositifs.libelles, dispositifs.aide_millions, BLEU,
      "Aide signée (M€)");
  }
  var axes = lire("donnees-graphique-axes");
  if (axes) {
    barres("graphique-axes", axes.libelles, axes.dossiers, ROUGE, "Projets retenus");
  }
})();
