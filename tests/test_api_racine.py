def test_racine_de_l_api_liste_les_ressources(client, db):
    reponse = client.get("/api/v1/")
    assert reponse.status_code == 200
    donnees = reponse.json()
    assert donnees["ressources"]["projets"] == "http://testserver/api/v1/projets/"
    assert donnees["documentation"] == "http://testserver/api/docs/"
    assert client.get(donnees["ressources"]["territoires"]).status_code == 200
