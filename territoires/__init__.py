"""Geography (régions, départements, EPCI, communes), territories per phase, binômes,
habilitations and the perimeter rule (`Territoire.objects.visibles_par`)."""
