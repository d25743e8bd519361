"""Vocabularies, noise rates and vectorized noise transforms for the synthetic generator.

Every transform works on whole pyarrow string arrays (or numpy code-point matrices for the
small subsets that need per-row character edits); there are no per-row Python loops.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import cache, partial
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of noise. Record-level rates apply per generated record,
    person-level rates (``second_email``, ``new_phone``, ``household_*``, ``updated_over_time``)
    per true person."""

    email_case: float = 0.04  # UPPER, Title.Case or Capitalized address
    email_whitespace: float = 0.02  # leading/trailing spaces
    email_plus_tag: float = 0.02  # local+tag@domain
    gmail_dots: float = 0.15  # of gmail records: dots removed or one added
    phone_format: float = 0.35  # another of the 9 layouts than the source's usual one
    name_typo: float = 0.03  # per name: one character substituted, transposed or deleted
    nickname: float = 0.10  # of records whose first name has one: Bill for William
    initial: float = 0.02  # first name reduced to "J" or "J."
    name_swap: float = 0.02  # first and last name swapped ("LAST First" in full_name)
    name_upper: float = 0.05  # last name in capitals
    accent_strip: float = 0.30  # Hélène -> Helene (no-op on names without accents)
    missing: float = 0.04  # per nullable column
    app_name_missing: float = 0.40  # app records without any name
    newsletter_name_missing: float = 0.60
    second_email: float = 0.12  # persons with a second address
    second_email_use: float = 0.40  # share of their records using it
    new_phone: float = 0.08  # persons changing phone at a random date
    household_email: float = 0.03  # persons using their household partner's email
    household_phone: float = 0.04  # persons using their household partner's phone
    junk_email: float = 0.01  # placeholders such as test@test.com shared by many people
    junk_phone: float = 0.01  # placeholders such as 0000000000
    updated_over_time: float = 0.10  # persons changing company and zip at a random date
    # A shop or app account is unique per person (sites dedupe on login); a second account
    # of the same person is the exception. Other extra records go to the CRM or newsletter.
    duplicate_account: float = 0.04

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise rate {f.name} must be within [0, 1], got {value!r}")


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
# country code, trunk prefix, digit groups of the national number, share of persons
COUNTRIES = (
    ("33", "0", (1, 2, 2, 2, 2), 0.88),
    ("44", "0", (4, 6), 0.04),
    ("1", "", (3, 3, 4), 0.04),
    ("49", "0", (3, 8), 0.04),
)
N_PHONE_FORMATS = 9
PLUS_TAGS = ("news", "shop", "promo", "spam", "amazon", "2024")


def fold_ascii(text: str) -> str:
    """Strip accents: ``Hélène`` -> ``Helene``, ``Groß`` -> ``Gross``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def email_key(text: str) -> str:
    """Lowercase ASCII form of a name usable in an email local part."""
    return "".join(c for c in fold_ascii(text).lower() if c.isalnum() or c == "-")


@cache
def first_name_variants() -> Any:
    """First-name vocabulary stacked as [original, accent-stripped, nickname, initial, initial.].

    A record's first name is ``take(variants, index + len(FIRST_NAMES) * variant)``.
    """
    orig = list(FIRST_NAMES)
    nick = [NICKNAMES.get(n, n) for n in orig]
    initial = [n[0] for n in orig]
    dotted = [f"{n[0]}." for n in orig]
    return pa.array(orig + [fold_ascii(n) for n in orig] + nick + initial + dotted, pa.string())


@cache
def last_name_variants() -> Any:
    """Last-name vocabulary stacked as [original, accent-stripped]."""
    orig = list(LAST_NAMES)
    return pa.array(orig + [fold_ascii(n) for n in orig], pa.string())


@cache
def has_nickname() -> BoolArray:
    return np.array([n in NICKNAMES for n in FIRST_NAMES], dtype=np.bool_)


def pick(rng: np.random.Generator, n: int, rate: float) -> IntArray:
    """Indices of the rows selected with probability ``rate``."""
    return np.flatnonzero(rng.random(n) < rate).astype(np.int64)


def replace_at(values: Any, idx: IntArray, new: Any) -> Any:
    """``values`` with ``values[idx[i]] = new[i]`` (one linear pass, indices distinct)."""
    if len(idx) == 0:
        return values
    new = pa.array(new, type=values.type)
    if np.any(idx[1:] < idx[:-1]):
        order = np.argsort(idx, kind="stable")
        idx, new = idx[order], new.take(order)
    mask = np.zeros(len(values), dtype=np.bool_)
    mask[idx] = True
    return pc.replace_with_mask(values, pa.array(mask), new)


def set_null(values: Any, mask: BoolArray) -> Any:
    """``values`` with the rows where ``mask`` is true set to null."""
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def choose(rng: np.random.Generator, values: tuple[str, ...], n: int) -> Any:
    """``n`` values drawn uniformly from a small tuple, as a string array."""
    return pa.array(list(values), pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def typos(values: Any, rng: np.random.Generator) -> Any:
    """One substituted, transposed or deleted character per value (values of length >= 3)."""
    k = len(values)
    if k == 0:
        return values
    text = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.str_)
    width = text.dtype.itemsize // 4
    codes = np.zeros((k, width + 2), dtype=np.uint32)
    codes[:, :width] = text.view(np.uint32).reshape(k, width)
    lengths = (codes != 0).sum(axis=1)
    kind = rng.integers(0, 3, k)
    pos = 1 + (rng.random(k) * np.maximum(lengths - 1, 1)).astype(np.int64)
    rows = np.arange(k)
    ok = lengths >= 3
    sub = ok & (kind == 0)
    letters = np.frombuffer("abcdefghijklmnopqrstuvwxyz".encode("utf-32-le"), dtype=np.uint32)
    codes[rows[sub], pos[sub]] = letters[rng.integers(0, 26, int(sub.sum()))]
    tr = ok & (kind == 1)
    r, p = rows[tr], pos[tr] - 1
    left = codes[r, p].copy()
    codes[r, p] = codes[r, p + 1]
    codes[r, p + 1] = left
    de = ok & (kind == 2)
    cols = np.arange(width + 1)[None, :]
    src = cols + (cols >= pos[de][:, None])
    codes[rows[de], : width + 1] = np.take_along_axis(codes[rows[de]], src, axis=1)
    out = np.ascontiguousarray(codes[:, :width]).view(f"<U{width}").ravel()
    return pa.array(out, type=pa.string())


def _gmail_dots(emails: Any) -> Any:
    """Remove the dots of a gmail local part, or add one after its first character."""
    local = pc.list_element(pc.split_pattern(emails, "@", max_splits=1), 0)
    undotted = pc.replace_substring(local, ".", "")
    first, rest = pc.utf8_slice_codeunits(local, 0, 1), pc.utf8_slice_codeunits(local, 1)
    dotted = pc.binary_join_element_wise(first, rest, ".")
    new_local = pc.if_else(pc.match_substring(local, "."), undotted, dotted)
    return pc.binary_join_element_wise(new_local, "gmail.com", "@")


def _apply(
    values: Any, rng: np.random.Generator, idx: IntArray, variants: Sequence[Callable[[Any], Any]]
) -> Any:
    """``values`` with each row of ``idx`` transformed by one of ``variants`` at random."""
    if len(idx) == 0:
        return values
    sub = values.take(idx)
    kind = rng.integers(0, len(variants), len(idx))
    out = variants[0](sub)
    for i, variant in enumerate(variants[1:], start=1):
        out = pc.if_else(pa.array(kind == i), variant(sub), out)
    return replace_at(values, idx, out)


def email_noise(emails: Any, rng: np.random.Generator, rates: NoiseRates) -> Any:
    """Gmail dot variation, ``+tag``, case and whitespace variation (no nulls expected)."""
    n, join = len(emails), pc.binary_join_element_wise
    gmail = np.asarray(pc.ends_with(emails, "@gmail.com").to_numpy(zero_copy_only=False))
    dots = np.flatnonzero(gmail & (rng.random(n) < rates.gmail_dots))
    emails = _apply(emails, rng, dots, [_gmail_dots])
    tags = [partial(pc.replace_substring, pattern="@", replacement=f"+{t}@") for t in PLUS_TAGS]
    emails = _apply(emails, rng, pick(rng, n, rates.email_plus_tag), tags)
    cases = [pc.utf8_upper, pc.utf8_title, pc.utf8_capitalize]
    emails = _apply(emails, rng, pick(rng, n, rates.email_case), cases)
    spaces: list[Callable[[Any], Any]] = [
        lambda e: join(" ", e, ""),
        lambda e: join(e, " ", ""),
        lambda e: join("  ", e, " ", ""),
    ]
    return _apply(emails, rng, pick(rng, n, rates.email_whitespace), spaces)


def _phone_template(country: int, fmt: int) -> str:
    """Phone layout with ``#`` for each digit of the national number."""
    cc, trunk, groups, _ = COUNTRIES[country]
    g = ["#" * w for w in groups]
    nsn = "".join(g)
    layouts = [
        f"+{cc}{nsn}",
        f"{trunk}{nsn}",
        trunk + " ".join(g),
        trunk + ".".join(g),
        trunk + "-".join(g),
        f"+{cc} " + " ".join(g),
        f"00{cc}{nsn}",
        f"+{cc} ({trunk})" + " ".join(g) if trunk else f"({g[0]}) " + "-".join(g[1:]),
        f"{cc}{nsn}",
    ]
    return layouts[fmt]


@cache
def _phone_tables() -> tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Per (country, format): template bytes, the digit (0-10 of the right-aligned 11-digit
    number, 11 for a literal character) shown in each position, and the length."""
    templates = [
        _phone_template(c, f) for c in range(len(COUNTRIES)) for f in range(N_PHONE_FORMATS)
    ]
    width = max(len(t) for t in templates)
    literal = np.zeros((len(templates), width), dtype=np.uint8)
    slot = np.full((len(templates), width), 11, dtype=np.int64)
    for i, template in enumerate(templates):
        literal[i, : len(template)] = np.frombuffer(template.encode(), dtype=np.uint8)
        positions = np.flatnonzero(literal[i] == ord("#"))
        slot[i, positions] = np.arange(11 - len(positions), 11)
    lengths = np.array([len(t) for t in templates], dtype=np.int64)
    return literal, slot, lengths


def format_phones(country: IntArray, nsn: IntArray, fmt: IntArray, chunk: int = 1 << 18) -> Any:
    """Phone strings of national numbers ``nsn`` laid out in format ``fmt`` per country."""
    literal, slot, lengths = _phone_tables()
    combo = country * N_PHONE_FORMATS + fmt
    parts = []
    for lo in range(0, len(combo), chunk):
        c, v = combo[lo : lo + chunk], nsn[lo : lo + chunk]
        digits = np.empty((len(c), 12), dtype=np.uint8)
        for j in range(11):
            digits[:, j] = v // 10 ** (10 - j) % 10 + 48
        s = slot[c]
        chars = digits.ravel()[np.arange(len(c))[:, None] * 12 + s]
        chars = np.where(s == 11, literal[c], chars)
        parts.append(padded_strings(chars, lengths[c]))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def digit_strings(values: IntArray, width: int, prefix: str = "") -> Any:
    """``prefix`` + ``values`` zero-padded to ``width`` digits, as a string array."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.empty((len(values), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    for i in range(width):
        chars[:, len(head) + i] = values // 10 ** (width - 1 - i) % 10 + 48
    return fixed_width(chars)


def padded_strings(chars: NDArray[np.uint8], lengths: IntArray) -> Any:
    """String array from the first ``lengths[i]`` ASCII codes of each row of ``chars``."""
    keep = np.arange(chars.shape[1])[None, :] < lengths[:, None]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = np.ascontiguousarray(chars[keep])
    return pa.Array.from_buffers(
        pa.string(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def fixed_width(chars: NDArray[np.uint8]) -> Any:
    """String array from a (rows, width) matrix of ASCII codes, one string per row."""
    k, width = chars.shape
    offsets = np.arange(0, width * k + 1, width, dtype=np.int32)
    data = np.ascontiguousarray(chars)
    return pa.Array.from_buffers(pa.string(), k, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def format_times(t: IntArray, fmt: str) -> Any:
    """Epoch seconds formatted with ``%Y %m %d %H %M %S`` and literal ASCII characters."""
    dt = t.astype("datetime64[s]")
    day = dt.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]")
    secs = (dt - day).astype(np.int64)
    values = {
        "Y": (year.astype(np.int64) + 1970, 4),
        "m": ((month - year).astype(np.int64) + 1, 2),
        "d": ((day - month).astype(np.int64) + 1, 2),
        "H": (secs // 3600, 2),
        "M": (secs // 60 % 60, 2),
        "S": (secs % 60, 2),
    }
    tokens = fmt.replace("%", "\0%").split("\0")
    columns: list[NDArray[np.int64] | int] = []
    for token in tokens:
        rest = token
        if token.startswith("%"):
            v, width = values[token[1]]
            columns += [v // 10 ** (width - 1 - i) % 10 + 48 for i in range(width)]
            rest = token[2:]
        columns += [ord(c) for c in rest]
    chars = np.empty((len(t), len(columns)), dtype=np.uint8)
    for i, column in enumerate(columns):
        chars[:, i] = column
    return fixed_width(chars)


def hash_strings(values: Any) -> NDArray[np.uint64]:
    """64-bit hash of each string (duckdb ``hash``): equal strings get equal hashes."""
    table = pa.table({"i": pa.array(np.arange(len(values), dtype=np.int64)), "s": values})
    con = duckdb.connect()
    try:
        con.register("v", table)
        out = con.execute("SELECT i, hash(s) AS h FROM v").fetchnumpy()
    finally:
        con.close()
    hashes = np.empty(len(values), dtype=np.uint64)
    hashes[np.asarray(out["i"])] = np.asarray(out["h"], dtype=np.uint64)
    return hashes
