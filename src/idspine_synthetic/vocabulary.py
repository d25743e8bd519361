"""Vocabularies of the synthetic generator: names, nicknames, domains, companies, junk
values and phone countries."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words, ``_`` standing for a space inside a word, deduplicated."""
    return tuple(dict.fromkeys(w.replace("_", " ") for w in text.split()))


FIRST_NAMES = _words(
    "Jean Pierre Marie Sophie Camille Léa Chloé Manon Emma Inès Zoé Hélène Françoise Sébastien "
    "Jérôme Stéphane Frédéric Émilie Élodie Amélie Céline Aurélie Gaëlle Noël Loïc Anaïs Benoît "
    "François Rémi Théo Léo Hugo Lucas Louis Gabriel Arthur Jules Nathan Raphaël Mathis Thomas "
    "Nicolas Julien Antoine Maxime Alexandre Guillaume Romain Mathieu Vincent Olivier Laurent "
    "Philippe Michel Alain Patrick Christophe David Éric Bruno Didier Thierry Pascal Yves Gilles "
    "Bernard Daniel Denis Marc Paul Jacques André René Claude Henri Xavier Cédric Damien Fabien "
    "Florian Kévin Quentin Adrien Baptiste Clément Valentin Alexis Simon Victor Martin Bastien "
    "Corentin Enzo Axel Sacha Isabelle Nathalie Sandrine Valérie Christine Catherine Sylvie "
    "Véronique Martine Monique Nicole Brigitte Anne Julie Laura Sarah Pauline Marion Lucie "
    "Justine Charlotte Clara Alice Louise Jade Lina Mila Rose Ambre Juliette Margaux Océane "
    "Mélanie Virginie Stéphanie Caroline Delphine Karine Laetitia Audrey Aurore Agnès Béatrice "
    "Geneviève Mireille Odile Solène Maëlle Noémie Cécile Agathe Margot Clémence Adèle Héloïse "
    "Jeanne Élise Nina Eva Romane Jean-Pierre Jean-Luc Marie-Claire Anne-Sophie Marie-Hélène "
    "William Robert Elizabeth Katherine James Michael Jennifer Margaret Alexander John Richard "
    "Charles Joseph Christopher Matthew Anthony Mark Steven Andrew Joshua Kenneth Kevin Brian "
    "George Edward Ronald Timothy Jason Jeffrey Ryan Jacob Gary Nicholas Jonathan Stephen Justin "
    "Scott Brandon Benjamin Samuel Gregory Frank Raymond Jack Dennis Tyler Aaron Henry Douglas "
    "Peter Adam Zachary Walter Kyle Harold Carl Jeremy Keith Roger Ethan Sean Austin Noah Jesse "
    "Albert Bryan Bruce Jordan Dylan Alan Ralph Wayne Eugene Logan Russell Philip Bradley Mary "
    "Patricia Linda Barbara Susan Jessica Karen Nancy Lisa Betty Dorothy Sandra Ashley Kimberly "
    "Donna Emily Michelle Carol Amanda Melissa Deborah Rebecca Sharon Cynthia Kathleen Amy "
    "Shirley Angela Helen Anna Brenda Pamela Samantha Rachel Carolyn Janet Maria Heather Diane "
    "Joyce Victoria Kelly Christina Joan Evelyn Lauren Judith Olivia Martha Megan Andrea Hannah "
    "Jacqueline Kathryn Gloria Teresa Madison Grace Judy Theresa Beverly Denise Amber Danielle "
    "Abigail Natalie Sophia Jane Hans Jürgen Günter Klaus Wolfgang Dieter Uwe Horst Helmut "
    "Manfred Werner Gerhard Karl Heinz Rainer Stefan Andreas Matthias Markus Tobias Lukas Felix "
    "Jonas Maximilian Leon Finn Moritz Niklas Sören Björn Jörg Ursula Gisela Renate Helga Ingrid "
    "Monika Sabine Petra Claudia Susanne Birgit Katrin Anja Jana Lena Mia Leonie Käthe Dörte "
    "Bärbel Friedrich Wilhelm Heinrich Ernst Otto Fritz Rüdiger Götz José Juan Antonio Manuel "
    "Francisco Javier Carlos Miguel Alejandro Rafael Pedro Ángel Pablo Sergio Fernando Jorge "
    "Luis Alberto Álvaro Diego Adrián Raúl Rubén Iván Óscar Andrés Joaquín Ramón Enrique Víctor "
    "Jesús Ignacio Gonzalo Mateo Santiago María Carmen Ana Isabel Lucía Cristina Marta Paula "
    "Elena Pilar Raquel Rocío Beatriz Silvia Natalia Mónica Nuria Sofía Valentina Martina "
    "Julia Irene Alba Noelia Ángela Verónica Begoña Aitana Ximena Dolores Mercedes Emmanuel"
)

_COMMON_LAST_NAMES = _words(
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefèvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
    "Rousseau Vincent Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier "
    "François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu "
    "Gautier Masson Marchand Duval Denis Dumont Lemaire Noël Meyer Dufour Meunier Brun Blanchard "
    "Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard "
    "Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas "
    "Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq "
    "Guillaume Lecomte Lopez Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin "
    "Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty "
    "Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé "
    "Fernandez Le_Gall Collet Léger Bouvier Julien Prévost Millet Perrot Cousin Germain Breton "
    "Besson Langlois Rémy Le_Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Mallet "
    "Hamon Boulanger Jacob Monnier Michaud Guichard Gillet Étienne Grondin Poulain Tessier "
    "Chevallier Collin Chauvin Da_Silva Bouchet Lemaître Bénard Maréchal Humbert Reynaud "
    "Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier "
    "Laporte Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore "
    "Jackson White Harris Thompson Clark Lewis Robinson Walker Young Allen King Wright Scott "
    "Green Baker Hill Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans "
    "Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Bell "
    "Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray Hughes Price Sanders Myers "
    "Long Ross Foster Powell Jenkins Perry Russell Sullivan Fisher Hamilton Graham Wallace Cole "
    "West O'Brien O'Connor McDonald Fitzgerald Müller Schmidt Schneider Fischer Weber Wagner "
    "Becker Schulz Hoffmann Schäfer Koch Bauer Richter Wolf Schröder Neumann Schwarz Zimmermann "
    "Braun Krüger Hofmann Hartmann Lange Werner Schmitz Krause Meier Lehmann Schmid Schulze "
    "Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß "
    "Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Winkler Roth Beck Lorenz Baumann "
    "Franke Albrecht Schuster Ludwig Böhm Winter Kraus Schumacher Krämer Vogt Stein Jäger Otto "
    "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn "
    "Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold Wolff Pfeiffer García Rodríguez "
    "González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz "
    "Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil "
    "Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz "
    "Núñez Iglesias Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto Méndez "
    "Cruz Calvo Gallego León Márquez Herrera Peña Flores Cabrera Campos Vega Fuentes Carrasco "
    "Díez Caballero Reyes Nieto Aguilar Pascual Santana Herrero Lorenzo Montero Hidalgo "
    "Giménez Ibáñez Ferrer Durán Benítez Mora Vicente Vargas Arias Carmona Crespo Román Pastor "
    "Soto Sáez Velasco Moya Soler Parra Esteban Bravo Gallardo Rojas"
)

# Rarer surnames built from French, German and Spanish stems and endings give the long
# tail of real surname distributions; listed last, so Zipf weights keep each of them rare.
_SURNAME_PARTS = (
    ("Beau Bel Bon Bour Cham Font Gren Lam Lan Mar Mont Pel Roch Vaill Vil Bois Clair Haut "
     "Long Ros Chan Cour Dam Esc Fer Gal Gaul Hau Jou Lav Lor Mal Mir Nor Pon Ram Rig Sau "
     "Tal Ver", "mont ville court champ fort lin bert val mas lac noir pré rive roche bois "
     "fontaine"),
    ("Rosen Eisen Stein Gold Wein Kirch Lichten Schön Hoch Alt Grün Mittel Sonnen Blumen "
     "Linden Wald Brand Hirsch Adler Falken Bern Dorn Ehren Frei Glas Hagen Hein Holz Kalt "
     "Kessel Kron Löwen Mühl Neu Ober Reichen Sieben Silber Unter Wolfs Zoll", "berg feld "
     "mann bach tal hof burg dorf baum stein wald meier hausen heim thaler brunner"),
    ("Villa Monte Valle Castel Torre Campo Río Fuente Peña Casa Sierra Vega Val Alta Ribera "
     "Cabeza", "nueva lobos verde real blanco negro alta mar franca rubia seca mayor"),
)  # fmt: skip
LAST_NAMES = _COMMON_LAST_NAMES + tuple(
    dict.fromkeys(
        a + b
        for stems, endings in _SURNAME_PARTS
        for a in stems.split()
        for b in endings.split()
        if a + b not in _COMMON_LAST_NAMES
    )
)

NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Katherine": "Kate",
    "James": "Jim", "Michael": "Mike", "Jennifer": "Jen", "Margaret": "Maggie",
    "Thomas": "Tom", "Alexander": "Alex", "Alexandre": "Alex", "Richard": "Rick",
    "Christopher": "Chris", "Christophe": "Chris", "Matthew": "Matt", "Anthony": "Tony",
    "Joseph": "Joe", "Nicholas": "Nick", "Nicolas": "Nico", "Benjamin": "Ben",
    "Samuel": "Sam", "Daniel": "Dan", "Edward": "Ed", "Timothy": "Tim", "Andrew": "Andy",
    "Jonathan": "Jon", "Patricia": "Pat", "Rebecca": "Becky", "Victoria": "Vicky",
    "Deborah": "Debbie", "Susan": "Sue", "Kimberly": "Kim", "Jacqueline": "Jackie",
    "Catherine": "Cathy", "Isabelle": "Isa", "Frédéric": "Fred", "Sébastien": "Seb",
    "Maximilian": "Max", "Maxime": "Max", "Emmanuel": "Manu", "Manuel": "Manu",
    "Francisco": "Paco", "José": "Pepe", "Dolores": "Lola", "Guillaume": "Will",
    "Wolfgang": "Wolf", "Stefan": "Steff", "Samantha": "Sam", "Gregory": "Greg",
    "Zachary": "Zach", "Kenneth": "Ken", "Jeffrey": "Jeff", "Stephen": "Steve",
    "Steven": "Steve", "Raphaël": "Raph", "Valentin": "Val", "Alexis": "Alex",
}  # fmt: skip

# (domain, weight); company domains are added per person from COMPANIES.
EMAIL_DOMAINS = (
    ("gmail.com", 30), ("orange.fr", 10), ("outlook.com", 8), ("hotmail.fr", 7),
    ("yahoo.fr", 6), ("free.fr", 6), ("sfr.fr", 4), ("laposte.net", 4), ("icloud.com", 4),
    ("wanadoo.fr", 3), ("hotmail.com", 3), ("yahoo.com", 3), ("gmx.de", 2), ("web.de", 2),
    ("protonmail.com", 1), ("live.fr", 2),
)  # fmt: skip

COMPANIES = _words(
    "Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Cyberdyne Soylent Tyrell Wonka "
    "Aperture Massive_Dynamic Nakatomi Oceanic Monarch Dunder_Mifflin Gringotts Pied_Piper "
    "Blue_Sun Gekko Virtucon Contoso Fabrikam Northwind Tailspin Litware Adventure_Works "
    "Proseware Wingtip Lucerne Coho Alpine Fourth_Coffee Margie Woodgrove Trey Bellows Datum "
    "Bravo_Conseil Lumière Étoile_Santé Kanzlei_Groß Société_Générale_Démo Iberia_Soluciones"
)

JUNK_EMAILS = (
    "test@test.com", "noemail@example.com", "n/a", "none@none.com", "no@email.com",
    "x@x.com", "unknown", "-",
)  # fmt: skip
JUNK_PHONES = ("0000000000", "0123456789", "0600000000", "1111111111", "+33000000000", "N/A")
# country code, trunk prefix, digit groups of the national number, share of persons. The
# last four have no share of their own: only ``NoiseRates.foreign_person`` moves people there.
COUNTRIES = (
    ("33", "0", (1, 2, 2, 2, 2), 0.88),
    ("44", "0", (4, 6), 0.04),
    ("1", "", (3, 3, 4), 0.04),
    ("49", "0", (3, 8), 0.04),
    ("34", "", (3, 3, 3), 0.0),
    ("32", "0", (3, 2, 2, 2), 0.0),
    ("39", "", (3, 3, 4), 0.0),
    ("41", "0", (2, 3, 2, 2), 0.0),
)
COUNTRY_ISO = ("FR", "GB", "US", "DE", "ES", "BE", "IT", "CH")  # same order as COUNTRIES
N_PHONE_FORMATS = 9
PLUS_TAGS = ("news", "shop", "promo", "spam", "amazon", "2024")
