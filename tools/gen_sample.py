#!/usr/bin/env python3
"""Writes deploy/sample/companies.csv: 300 fictional companies for 'onboard import'.

    tools/gen_sample.py [OUTPUT]      (default: deploy/sample/companies.csv; '-': stdout)

The output is deterministic (a fixed seed and no clock): running the script
again writes the same bytes, so the committed file can be checked against it.

Every company is made up. SIRENs are 8 random digits and a Luhn check digit
(real-looking, but drawn at random, never La Poste's 356000000); SIRETs extend
them with a NIC whose check digit makes the 14 digits pass Luhn; VAT numbers
are FR + the key (12 + 3 * (SIREN mod 97)) mod 97 + the SIREN. Landline phones
are taken from the ranges ARCEP keeps for fiction (01 99 00, 02 61 91,
03 53 01, 04 65 71, 05 36 49), e-mail addresses are at example.fr and
example.com (RFC 2606).

What the file exercises: TPE and PME companies with a handful of ETI (the
default cohort refuses them: FAILED_PRECONDITION), their legal forms (the
companies give a VAT number, as onboardd requires of them; an EI whose
turnover is under the micro regime's ceiling is a micro-entrepreneur, who
keeps no balance sheet: an empty cell), the date each accepted the
programme's terms (import --terms-version says which version), postal codes of many
departements with Corsica (20000, 20200) and overseas (97100, 97200, 97400),
overseas phones (0590, 0690, 0596, 0696, 0262, 0692), phones in several
layouts, accented names, cells with commas and quotes (quoted in the CSV),
optional cells left empty, the three channels, export flags, ';'-separated
categories.

The places and trades are real: each postal code with a commune it serves,
spelled as La Poste's base has it (data/fr-postal-codes.tsv), and each NAF code
a sub-class of NAF rev. 2 (data/naf-rev2.tsv), as onboardd checks them. The
script refuses to write a file that onboardd would refuse.
"""
import csv
import io
import os
import random
import sys
import unicodedata

SEED = 20201102
COUNT = 300
ETI_ROWS = 10
COLUMNS = ['siren', 'siret', 'legal_name', 'trade_name', 'legal_form', 'naf', 'vat',
           'employees', 'turnover_eur', 'balance_eur', 'address', 'postal_code', 'city',
           'contact_name', 'email', 'phone', 'channel', 'export', 'categories',
           'terms_accepted_at']
# The legal form's word for 'onboard import' (onboard.v1.LegalForm), and whether
# onboardd wants the VAT number of that form.
LEGAL_FORMS = {'EI': ('ei', False), 'SARL': ('sarl', True), 'EURL': ('eurl', True),
               'SASU': ('sasu', True), 'SAS': ('sas', True), 'SA': ('sa', True),
               'SCOP': ('other', False)}
# The micro regime's turnover ceiling of 2020 for sales (CGI art. 50-0).
MICRO_CEILING = 176200
# Never generated: La Poste (its SIRETs follow another rule) and the SIREN the
# integration tests submit by hand.
AVOID = {'356000000', '123456782'}

# (postal code, city, phone area): area 1-5 for the metropolitan zones, or the
# overseas landline and mobile prefixes.
PLACES = [
    ('75011', 'Paris', '1'), ('75018', 'Paris', '1'), ('75005', 'Paris', '1'),
    ('92100', 'Boulogne-Billancourt', '1'), ('93100', 'Montreuil', '1'),
    ('94300', 'Vincennes', '1'), ('78000', 'Versailles', '1'), ('91300', 'Massy', '1'),
    ('95000', 'Cergy', '1'), ('77300', 'Fontainebleau', '1'),
    ('35000', 'Rennes', '2'), ('29200', 'Brest', '2'), ('56100', 'Lorient', '2'),
    ('44000', 'Nantes', '2'), ('49000', 'Angers', '2'), ('72000', 'Le Mans', '2'),
    ('14000', 'Caen', '2'), ('76000', 'Rouen', '2'), ('50100', 'Cherbourg-en-Cotentin', '2'),
    ('37000', 'Tours', '2'), ('45000', 'Orléans', '2'), ('18000', 'Bourges', '2'),
    ('85000', 'La Roche-sur-Yon', '2'),
    ('59000', 'Lille', '3'), ('62000', 'Arras', '3'), ('80000', 'Amiens', '3'),
    ('60200', 'Compiègne', '3'), ('02100', 'Saint-Quentin', '3'), ('51100', 'Reims', '3'),
    ('67000', 'Strasbourg', '3'), ('68100', 'Mulhouse', '3'), ('54000', 'Nancy', '3'),
    ('57000', 'Metz', '3'), ('10000', 'Troyes', '3'), ('21000', 'Dijon', '3'),
    ('25000', 'Besançon', '3'), ('71100', 'Chalon-sur-Saône', '3'), ('89000', 'Auxerre', '3'),
    ('69003', 'Lyon', '4'), ('69100', 'Villeurbanne', '4'), ('38000', 'Grenoble', '4'),
    ('74000', 'Annecy', '4'), ('73000', 'Chambéry', '4'), ('42000', 'Saint-Étienne', '4'),
    ('63000', 'Clermont-Ferrand', '4'), ('01000', 'Bourg-en-Bresse', '4'),
    ('26000', 'Valence', '4'), ('13001', 'Marseille', '4'), ('13100', 'Aix-en-Provence', '4'),
    ('06000', 'Nice', '4'), ('83000', 'Toulon', '4'), ('84000', 'Avignon', '4'),
    ('05000', 'Gap', '4'), ('34000', 'Montpellier', '4'), ('30000', 'Nîmes', '4'),
    ('66000', 'Perpignan', '4'), ('20000', 'Ajaccio', '4'), ('20200', 'Bastia', '4'),
    ('31000', 'Toulouse', '5'), ('33000', 'Bordeaux', '5'), ('64000', 'Pau', '5'),
    ('64100', 'Bayonne', '5'), ('17000', 'La Rochelle', '5'), ('86000', 'Poitiers', '5'),
    ('87000', 'Limoges', '5'), ('24000', 'Périgueux', '5'), ('40000', 'Mont-de-Marsan', '5'),
    ('65000', 'Tarbes', '5'), ('81000', 'Albi', '5'), ('12000', 'Rodez', '5'),
    ('97100', 'Basse-Terre', '590/690'), ('97200', 'Fort-de-France', '596/696'),
    ('97400', 'Saint-Denis', '262/692'),
]
# ARCEP's numbers for fiction: 01 99 00 xx xx and so on.
FICTION = {'1': '199 00', '2': '261 91', '3': '353 01', '4': '465 71', '5': '536 49'}

# (trade, NAF code, categories it sells)
TRADES = [
    ('Boulangerie', '10.71C', ['food', 'pastry']),
    ('Biscuiterie', '10.72Z', ['food', 'pastry']),
    ('Chocolaterie', '10.82Z', ['food', 'gifts']),
    ('Fromagerie', '47.29Z', ['food', 'cheese']),
    ('Épicerie fine', '47.29Z', ['food', 'wine', 'gifts']),
    ('Restaurant', '56.10A', ['food', 'meal kits']),
    ('Crêperie', '56.10A', ['food']),
    ('Domaine', '11.02B', ['wine']),
    ('Distillerie', '11.01Z', ['spirits', 'gifts']),
    ('Cave', '47.25Z', ['wine', 'spirits']),
    ('Boutique', '47.71Z', ['fashion', 'accessories']),
    ('Atelier couture', '14.13Z', ['fashion']),
    ('Maroquinerie', '15.12Z', ['accessories', 'fashion']),
    ('Bijouterie', '47.77Z', ['jewellery', 'watches']),
    ('Atelier bijoux', '32.12Z', ['jewellery']),
    ('Savonnerie', '20.42Z', ['beauty', 'soap']),
    ('Herboristerie', '47.73Z', ['beauty', 'herbal teas']),
    ('Librairie', '47.61Z', ['books']),
    ('Jouets', '47.65Z', ['toys', 'games']),
    ('Poterie', '23.41Z', ['home', 'crafts']),
    ('Maison', '47.59B', ['home', 'decoration']),
    ('Comptoir', '47.91B', ['home', 'gifts', 'crafts']),
    ('Vente à distance', '47.91A', ['home', 'garden', 'toys']),
    ('Sports', '47.64Z', ['sports', 'outdoor']),
    ('Studio', '62.01Z', ['software', 'digital services']),
    ('Torréfaction', '10.83Z', ['coffee', 'tea']),
    ('Galerie', '47.78C', ['art', 'crafts']),
]
SURNAMES = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand',
            'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'David',
            'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel', 'Girard', 'André', 'Lefèvre',
            'Mercier', 'Dupont', 'Lambert', 'Bonnet', 'François', 'Martinez', 'Legrand',
            'Garnier', 'Faure', 'Rousseau', 'Blanc', 'Guérin', 'Muller', 'Henry', 'Roussel',
            'Nicolas', 'Perrin', 'Morin', 'Mathieu', 'Clément', 'Gauthier', 'Dumont', 'Lopez',
            'Fontaine', 'Chevalier', 'Robin', 'Le Goff', 'Kerbrat', 'Etcheverry', 'Santoni',
            'Hoarau', 'Nguyen', 'Benali', 'Da Silva']
PLACE_NAMES = ['du Moulin', 'des Lilas', 'de la Vallée', 'du Vieux Port', 'des Quatre Saisons',
               'du Marché', 'de la Gare', 'des Halles', 'du Château', "de l'Étang", 'des Îles',
               'du Lavoir']
FIRST_NAMES = ['Marie', 'Jean', 'Pierre', 'Sophie', 'Camille', 'Lucas', 'Léa', 'Hugo', 'Chloé',
               'Louis', 'Emma', 'Nathalie', 'Isabelle', 'Philippe', 'Éric', 'Hélène', 'Amélie',
               'Julien', 'Mathilde', 'Thomas', 'Zoé', 'Mehdi', 'Yasmine', 'Karim', 'Inès',
               'Nicolas', 'Céline', 'Antoine', 'Manon', 'Olivier', 'Anne-Laure', 'Jean-Marc']
STREETS = ['rue des Lilas', 'avenue Victor Hugo', 'rue de la République', 'boulevard Jean Jaurès',
           'avenue du Général Leclerc', 'rue Pasteur', 'place des Écoles', 'rue du Marché',
           'chemin de la Gare', 'rue Gambetta', 'allée des Tilleuls', 'quai du Port',
           'impasse des Vignes', "rue de l'Église", 'route de Lyon']
TRADE_NAMES = ['Le Petit Four', 'Au Bon Goût', "L'Atelier", 'Les Délices', 'Maison Douce',
               'Pains, Vins & Fromages', 'Le "Comptoir" Bleu', 'Terre & Mer', 'Fil Rouge',
               'Bulle de Savon', "L'Heure du Thé", 'Nature, Simplement']


def luhn_digit(partial):
    """The digit that, appended to partial, makes the whole pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(partial), start=1):
        d = int(ch)
        if i % 2 == 1:  # doubled: every second digit from the check digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def ascii_slug(text):
    plain = unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()
    return ''.join(ch for ch in plain.lower() if ch.isalnum() or ch in '.-')


def phone(rng, area):
    if '/' in area:  # overseas: landline or mobile prefix, then 6 digits
        fixed, mobile = area.split('/')
        prefix = rng.choice([fixed, mobile])
        rest = '%06d' % rng.randrange(1000000)
        return '0%s %s %s %s' % (prefix, rest[0:2], rest[2:4], rest[4:6])
    if rng.random() < 0.35:  # a mobile
        prefix = rng.choice(['6', '7'])
        second = rng.choice(['1', '2', '4', '5', '7', '8']) if prefix == '6' else \
            rng.choice(['5', '6', '7', '8'])
        digits = '0' + prefix + second + '%07d' % rng.randrange(10000000)
    else:
        base = FICTION[area].replace(' ', '')
        digits = '0' + base + '%04d' % rng.randrange(10000)
    layout = rng.random()
    if layout < 0.55:
        return ' '.join(digits[i:i + 2] for i in range(0, 10, 2))
    if layout < 0.75:
        return digits
    if layout < 0.9:
        return '.'.join(digits[i:i + 2] for i in range(0, 10, 2))
    return '+33 %s %s' % (digits[1], ' '.join(digits[i:i + 2] for i in range(2, 10, 2)))


def vat_of(siren):
    return 'FR%02d%s' % ((12 + 3 * (int(siren) % 97)) % 97, siren)


def company(rng, size, place, used, index):
    while True:
        body = str(rng.randrange(1, 10)) + '%07d' % rng.randrange(10000000)
        siren = body + luhn_digit(body)
        if siren not in used and siren not in AVOID:
            used.add(siren)
            break
    siret = ''
    if rng.random() < 0.6:
        nic = '000' + str(rng.randrange(1, 10))
        siret = siren + nic + luhn_digit(siren + nic)
    vat = ''
    if rng.random() < 0.5:
        vat = vat_of(siren)
        if rng.random() < 0.2:
            vat = 'FR %s %s %s %s' % (vat[2:4], siren[0:3], siren[3:6], siren[6:9])
    trade, naf, cats = rng.choice(TRADES)
    owner = rng.choice(SURNAMES) if rng.random() < 0.7 else rng.choice(PLACE_NAMES)
    if size == 'TPE':
        form = rng.choice(['SARL', 'EURL', 'SASU', 'SAS', 'EI'])
        employees = rng.randrange(0, 10)
        turnover = rng.randrange(15, 1900) * 1000
        balance = rng.randrange(5, 1500) * 1000
    elif size == 'PME':
        form = rng.choice(['SARL', 'SAS', 'SAS', 'SA', 'SCOP'])
        employees = rng.randrange(10, 250)
        turnover = rng.randrange(2100, 45000) * 1000
        balance = rng.randrange(1000, 40000) * 1000
    else:  # ETI: above the PME thresholds on headcount, turnover and balance sheet
        form = rng.choice(['SA', 'SAS'])
        employees = rng.randrange(300, 3000)
        turnover = rng.randrange(60, 900) * 1000000
        balance = rng.randrange(50, 800) * 1000000
    word, needs_vat = LEGAL_FORMS[form]
    if form == 'EI' and turnover <= MICRO_CEILING:
        word, balance = 'micro', ''  # no balance sheet under the micro regime
    if needs_vat and vat == '':
        vat = vat_of(siren)  # a company invoices VAT: it has its number
    legal_name = '%s %s %s' % (trade, owner, form)
    if rng.random() < 0.08:
        legal_name = '%s %s, %s' % (trade, owner, form)  # a comma: a quoted cell
    trade_name = rng.choice(TRADE_NAMES) if rng.random() < 0.4 else ''
    postal, city, area = place
    number = str(rng.randrange(1, 180))
    if rng.random() < 0.1:
        number += rng.choice([' bis', ' ter'])
    street = '%s %s' % (number, rng.choice(STREETS))
    if rng.random() < 0.1:
        street = 'Zone artisanale des Prés, ' + street
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    email = '%s.%s@%s' % (ascii_slug(first), ascii_slug(last),
                          rng.choice(['example.fr', 'example.fr', 'example.com']))
    channel = rng.choices(['marketplace', 'webshop', 'both'], weights=[45, 20, 35])[0]
    exports = rng.random() < (0.6 if size != 'TPE' else 0.25)
    chosen = rng.sample(cats, rng.randrange(1, len(cats) + 1))
    # Accepted during the first two weeks of the lockdown's November (no
    # draw: the other cells stay as they were before this column).
    accepted = '2020-11-%02d' % (2 + index % 14)
    return [siren, siret, legal_name, trade_name, word, naf, vat, str(employees),
            str(turnover), str(balance), street, postal, city, '%s %s' % (first, last), email,
            phone(rng, area), channel, 'true' if exports else 'false', ';'.join(chosen),
            accepted]


def read_tsv(path):
    with open(path, encoding='utf-8') as f:
        return [line.rstrip('\n').split('\t') for line in f if not line.startswith('#')]


def check_reference_data(root):
    """Stops unless every place and trade is in the reference data of data/."""
    data = os.path.join(root, 'data')
    places = {(cp, name) for cp, _, name in read_tsv(os.path.join(data, 'fr-postal-codes.tsv'))}
    codes = {code for code, _, _ in read_tsv(os.path.join(data, 'naf-rev2.tsv'))}
    wrong = ['%s %s' % (cp, city) for cp, city, _ in PLACES if (cp, city) not in places]
    wrong += ['NAF %s' % naf for _, naf, _ in TRADES if naf not in codes]
    if wrong:
        sys.exit('gen_sample.py: not in data/: ' + ', '.join(wrong))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    check_reference_data(root)
    rng = random.Random(SEED)
    eti_rows = set(rng.sample(range(COUNT), ETI_ROWS))
    # Every place at least once, then at random.
    places = rng.sample(PLACES, len(PLACES))
    places += [rng.choice(PLACES) for _ in range(COUNT - len(places))]
    rng.shuffle(places)
    used = set()
    rows = []
    for i in range(COUNT):
        size = 'ETI' if i in eti_rows else ('TPE' if rng.random() < 0.62 else 'PME')
        rows.append(company(rng, size, places[i], used, i))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    text = out.getvalue()

    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'deploy', 'sample',
                                                              'companies.csv')
    if path == '-':
        sys.stdout.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='') as f:
        f.write(text)


if __name__ == '__main__':
    main()
