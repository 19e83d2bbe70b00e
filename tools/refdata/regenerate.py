#!/usr/bin/env python3
"""Regenerates the reference data files under data/ from the published data sets.

    cd tools/refdata && npm ci --ignore-scripts && python3 regenerate.py

npm only fetches the pinned packages of package-lock.json into
tools/refdata/node_modules (never committed); this script reads their JSON and
writes, sorted, one fact a line, each file opening with '#' lines that name
its source, version, licence and date:

  data/naf-rev2.tsv          code, section, label: the 732 sub-classes of NAF rev. 2
  data/fr-departements.tsv   code, name, region code, region name
  data/fr-postal-codes.tsv   postal code, departement, name (of a commune or of
                             its delivery office, the "libelle d'acheminement")

Only the territory of INSEE's SIRENE register is kept: metropolitan France
with Corsica, the five overseas departements (971-974, 976) and the three
collectivities whose companies SIRENE registers (975 Saint-Pierre-et-Miquelon,
977 Saint-Barthelemy, 978 Saint-Martin). Monaco (98000) and the Pacific
collectivities (986-988), which keep registers of their own, and the TAAF
(984) are left out.

The build does not run this script (nor need Node): tools/refdata/tables.py
turns the committed TSV files into C tables.
"""
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODULES = os.path.join(HERE, 'node_modules')
DATA = os.path.join(ROOT, 'data')

# NAF rev. 2 sections by division (the two first digits), as INSEE's
# nomenclature (decree 2007-1888) groups them; the npm package lists divisions,
# groups, classes and sub-classes but not the 21 sections.
SECTIONS = [
    ('A', 1, 3), ('B', 5, 9), ('C', 10, 33), ('D', 35, 35), ('E', 36, 39), ('F', 41, 43),
    ('G', 45, 47), ('H', 49, 53), ('I', 55, 56), ('J', 58, 63), ('K', 64, 66), ('L', 68, 68),
    ('M', 69, 75), ('N', 77, 82), ('O', 84, 84), ('P', 85, 85), ('Q', 86, 88), ('R', 90, 93),
    ('S', 94, 96), ('T', 97, 98), ('U', 99, 99),
]
NAF_SUBCLASSES = 732

# SIRENE's territory, by departement code.
METRO = {'%02d' % n for n in range(1, 96) if n != 20} | {'2A', '2B'}
OVERSEAS = {'971', '972', '973', '974', '976'}
COLLECTIVITIES = {'975', '977', '978'}
TERRITORY = METRO | OVERSEAS | COLLECTIVITIES

# What the C side folds (fr.c, city_fold): ASCII, Latin-1 letters, Latin
# Extended-A's oe ligature and Y diaeresis, the typographic apostrophe. A name
# with anything else would never match what people type: refuse to write it.
FOLDABLE = re.compile(r"^[A-Za-z0-9 '\-.,()/\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"
                      r"\u0152\u0153\u0178\u2019]+$")


def load(package, path):
    with open(os.path.join(MODULES, package, path), encoding='utf-8') as f:
        return json.load(f)


def version(package):
    return load(package, 'package.json')['version']


def tsv_field(s):
    if '\t' in s or '\n' in s or s != s.strip():
        sys.exit('refdata: unexpected whitespace in %r' % s)
    return s


def write(name, header, rows):
    path = os.path.join(DATA, name)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        for line in header:
            f.write('# ' + line + '\n' if line else '#\n')
        for r in rows:
            f.write('\t'.join(tsv_field(x) for x in r) + '\n')
    print('%s: %d lines' % (os.path.relpath(path, ROOT), len(rows)))


def section_of(division):
    for letter, lo, hi in SECTIONS:
        if lo <= division <= hi:
            return letter
    sys.exit('refdata: division %02d has no section' % division)


def naf(date):
    pkg = '@socialgouv/codes-naf'
    rows = []
    for item in load(pkg, 'index.json'):
        code = item['id']
        if not re.fullmatch(r'\d\d\.\d\d[A-Z]', code):
            continue  # divisions, groups and classes
        label = unicodedata.normalize('NFC', item['label'].strip())
        rows.append((code, section_of(int(code[:2])), label))
    rows.sort()
    if len(rows) != NAF_SUBCLASSES or len({r[0] for r in rows}) != NAF_SUBCLASSES:
        sys.exit('refdata: %d NAF sub-classes, expected %d' % (len(rows), NAF_SUBCLASSES))
    write('naf-rev2.tsv', [
        'NAF rev. 2 (nomenclature d\'activites francaise, INSEE, decree 2007-1888): the %d'
        % NAF_SUBCLASSES,
        'sub-classes with their labels, and the section (A..U) of each.',
        'Source: INSEE, via the npm package @socialgouv/codes-naf %s (Apache-2.0; INSEE\'s'
        % version(pkg),
        'data under the Licence Ouverte / Open Licence 2.0). Sections: INSEE\'s division ranges.',
        'Generated %s by tools/refdata/regenerate.py; do not edit by hand.' % date,
        'code\tsection\tlabel',
    ], rows)


def departements(date):
    pkg = '@etalab/decoupage-administratif'
    regions = {r['code']: r['nom'] for r in load(pkg, 'data/regions.json')}
    rows = []
    for d in load(pkg, 'data/departements.json'):
        if d['code'] not in TERRITORY:
            continue
        # The collectivities are listed as regions of their own: they are in no region.
        reg = '' if d['code'] in COLLECTIVITIES else d['region']
        rows.append((d['code'], d['nom'], reg, regions[reg] if reg else ''))
    rows.sort()
    if len(rows) != len(TERRITORY):
        sys.exit('refdata: %d departements, expected %d' % (len(rows), len(TERRITORY)))
    write('fr-departements.tsv', [
        'The departements (and three collectivities) of SIRENE\'s territory, with their region',
        '(INSEE\'s Code officiel geographique; empty for 975, 977 and 978, in no region).',
        'Source: npm package @etalab/decoupage-administratif %s (data: Licence Ouverte 2.0).'
        % version(pkg),
        'Generated %s by tools/refdata/regenerate.py; do not edit by hand.' % date,
        'code\tname\tregion_code\tregion_name',
    ], rows)
    return {r[0] for r in rows}


def departement_of_commune(code):
    """A commune code of INSEE's COG starts with its departement: 3 characters
    overseas (97x), 2 elsewhere (2A and 2B in Corsica)."""
    return code[:3] if code.startswith('97') else code[:2]


def fold(name):
    """The comparison key of fr.c's city matching, roughly: accents off, upper
    case, separators to single spaces, ST and STE spelled out. Only used to
    leave out spellings that compare equal anyway."""
    plain = unicodedata.normalize('NFKD', name.replace('\u0152', 'OE').replace('\u0153', 'oe'))
    plain = plain.encode('ascii', 'ignore').decode().upper()
    words = [w for w in re.split(r'[^A-Z0-9]+', plain) if w]
    return ' '.join({'ST': 'SAINT', 'STE': 'SAINTE'}.get(w, w) for w in words)


def prefer(a, b):
    """True if spelling a is the better one to keep: the official typography
    (lower case and accents) rather than La Poste's upper case."""
    def rank(s):
        return (not any(ch.islower() for ch in s), s.isascii(), s)
    return rank(a) < rank(b)


def postal_codes(date, deps):
    etalab = '@etalab/decoupage-administratif'
    cp_pkg = 'codes-postaux'
    facts = set()
    kinds = {'commune-actuelle', 'commune-deleguee', 'commune-associee',
             'arrondissement-municipal'}
    # La Poste's postal codes of every commune, and of the former communes
    # (deleguees, associees) and municipal arrondissements whose names people
    # still write.
    for c in load(etalab, 'data/communes.json'):
        if c['type'] not in kinds:
            continue
        dep = c.get('departement') or departement_of_commune(c['code'])
        for cp in c.get('codesPostaux', []):
            facts.add((cp, dep, c['nom']))
    # The delivery offices' names (libelle d'acheminement: "PARIS 16",
    # "CANJUERS CEDEX") and the communes as the postal file names them.
    for r in load(cp_pkg, 'codes-postaux.json'):
        dep = departement_of_commune(r['codeCommune'])
        facts.add((r['codePostal'], dep, r['nomCommune']))
        facts.add((r['codePostal'], dep, r['libelleAcheminement']))
    rows = {}
    for cp, dep, name in facts:
        if dep not in TERRITORY:
            continue
        if dep not in deps:
            sys.exit('refdata: departement %s of %s unknown' % (dep, cp))
        if not re.fullmatch(r'\d{5}', cp) or cp.startswith('00'):
            sys.exit('refdata: postal code %r' % cp)
        name = unicodedata.normalize('NFC', name.strip())
        if not FOLDABLE.match(name):
            sys.exit('refdata: %s %r has characters the C side does not fold' % (cp, name))
        # One line for the spellings the C side cannot tell apart ("SALLES CURAN",
        # "Salles-Curan"): the official one, with its case and accents, if there.
        k = (cp, dep, fold(name))
        if k not in rows or prefer(name, rows[k]):
            rows[k] = name
    rows = sorted((cp, dep, name) for (cp, dep, _), name in rows.items())
    write('fr-postal-codes.tsv', [
        'French postal codes of SIRENE\'s territory with the communes they serve, one',
        '(postal code, departement, name) a line: the names of the communes, of former communes',
        'and municipal arrondissements, and of the delivery offices (libelles d\'acheminement).',
        'Sources: La Poste\'s Base officielle des codes postaux as carried by the npm package',
        '@etalab/decoupage-administratif %s (communes of INSEE\'s COG, data: Licence Ouverte 2.0),'
        % version(etalab),
        'and the npm package codes-postaux %s (Etalab, from INSEE\'s COG and DGFiP\'s FIMOCT;'
        % version(cp_pkg),
        'Licence Ouverte 2.0) for the delivery offices\' names. La Poste\'s CEDEX codes are not',
        'in these open data sets: only the few CEDEX offices they carry are here.',
        'Generated %s by tools/refdata/regenerate.py; do not edit by hand.' % date,
        'postal_code\tdepartement\tname',
    ], rows)


def main():
    if not os.path.isdir(MODULES):
        sys.exit('refdata: run "npm ci --ignore-scripts" in tools/refdata first')
    # The date the files were made, given so that a rerun on the same packages
    # writes the same bytes.
    date = sys.argv[1] if len(sys.argv) > 1 else None
    if date is None or not re.fullmatch(r'\d{4}-\d\d-\d\d', date):
        sys.exit('usage: regenerate.py YYYY-MM-DD (the date to write in the headers)')
    os.makedirs(DATA, exist_ok=True)
    naf(date)
    deps = departements(date)
    postal_codes(date, deps)


if __name__ == '__main__':
    main()
