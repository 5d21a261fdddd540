#!/usr/bin/env python3
"""Build corpus/vocab/actors.csv and corpus/vocab/cues.csv from the event-coding dictionaries.

Inputs, all inside the repository: corpus/raw/dictionaries/ (unmodified MIT-licensed CAMEO and
Phoenix files, see PROVENANCE.md) and the hand-edited corpus/vocab/ files countries.csv,
igo_codes.csv, actors_manual.csv, cues_manual.csv and cues_stoplist.csv.

actors.csv (code,alias,kind,source): names, demonyms and capitals from the country blocks of
Phoenix.Countries.actors.txt (cities listed after the capital are dropped), office holders whose
dated range reaches 1995 (3-letter country of the code, or an IGO via igo_codes.csv), undated IGO
entries of Phoenix.International.actors.txt, plus the hand files. Manual rows win ("-" removes an
alias); an alias with several codes keeps its only country-level code or is dropped.
cues.csv (phrase,direction,cameo_code,goldstein,pos,source): CAMEO.2.0.txt verbs with their own
or their block's code, direction from the Goldstein score (>= +1 convergence, <= -1 divergence,
else skipped), inflected to lowercase forms; stoplisted lemmas/forms removed; manual rows win.

Usage: python corpus/build/build_vocab.py   (sorted output: a re-run gives byte-identical files)
"""
import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent
RAW, VOCAB = CORPUS / "raw" / "dictionaries", CORPUS / "vocab"
CUTOFF = 19950101  # persons: an office range must reach this date
CODE_RE = re.compile(r"\[([^\]]*)\]")
ACRONYMS = set("""US USA UK UN EU UAE USSR DPRK PRC ROK ROC DRC BIH FYROM HKSAR KSA UNSC UNSG UNGA
DPKO UNHCR UNICEF UNESCO II III IV ASEAN OPEC IAEA WTO IMF OSCE CIS SCO GCC OAS OIC ECOWAS SAARC
SADC ICC ICJ OECD NATO AU OAU CSTO BRICS EAEU AUKUS""".split())
PARTICLES = set("and of the de da del della der den des du di la le van von y al el bin ibn e ul ur"
                " for on in to at".split())
SECTOR = set("""GOVERNMENT MINISTRY OFFICIAL OFFICIALS SPOKESMAN SPOKESWOMAN SPOKESPERSON POLICE ARMY
MILITARY TROOPS FORCES SOLDIERS REBELS PARTY PEACEKEEPER PEACEKEEPERS CONTINGENT EMBASSY
DELEGATION""".split())
NOT_PERSON = SECTOR | set("""FRONT MOVEMENT COUNCIL COMMISSION UNION ORGANIZATION ORGANISATION
COMMITTEE ASSEMBLY REGIME COURT PARLIAMENT CONGRESS LEAGUE ALLIANCE COALITION BRIGADE""".split())
KIND_RANK = {"country": 0, "capital": 1, "demonym": 2, "igo": 3, "metonym": 4, "organ": 5, "legislature": 6, "person": 7}
# British and American spellings in the names of intergovernmental organisations: both are
# written (not for a state's organs: "Department of Defence" is Australia's, not the Pentagon)
SPELLINGS = {"Organisation": "Organization", "Defence": "Defense"}
DOUBLE_FINAL = set("""admit commit compel expel regret prefer occur control patrol refer rebut deter
equip abet acquit allot annul confer defer infer extol propel rebel repel submit transmit permit
omit emit outwit upset forbid begin recur incur concur dispel impel embed kidnap enrol""".split())


def read_csv(name):
    with open(VOCAB / name, newline="", encoding="utf-8") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def write_csv(name, header, rows):
    with open(VOCAB / name, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header] + list(rows))


def split_list(value):
    return [v.strip() for v in value.split(";") if v.strip()]


def norm(name):
    """Comparison key: 'WASHINGTON_D.C._' and 'Washington D.C.' -> 'WASHINGTON DC'."""
    return " ".join(re.sub(r"[_.,-]", " ", name).upper().split())


# ------------------------------------------------------------------------------ actors
def to_date(s):
    """PETRARCH dates: YYMMDD (YY 00-30 -> 20YY, else 19YY) or YYYYMMDD; None if unparseable."""
    if not s.isdigit() or len(s) < 6:
        return None
    yy = int(s[:2])
    return int(s[:8]) if len(s) > 7 else (yy + (2000 if yy <= 30 else 1900)) * 10000 + int(s[2:6])


def parse_code(tok):
    """['AFGGOV', '331108-730717'] -> ('AFGGOV', start, end, dated); open ends: 0 / 99999999."""
    lo, hi = 0, 99999999
    if len(tok) > 1:
        d = tok[1]
        if d[0] in "<>":
            lo, hi = (to_date(d[1:]), hi) if d[0] == ">" else (lo, to_date(d[1:]))
        else:
            lo, hi = (to_date(x) for x in d.partition("-")[::2])
    return tok[0], lo, hi, len(tok) > 1


def read_actor_groups(path):
    """Phoenix .actors file -> [(names, codes)]: head lines and their '+' synonyms share the
    codes on the head line or on the indented code lines below them."""
    groups, names, codes = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines():
        body = raw.split("#", 1)[0]
        found = [parse_code(c.split()) for c in CODE_RE.findall(body) if c.strip()]
        text = re.sub(r"\s+", "_", CODE_RE.sub(" ", body).strip()).strip("_")
        if text.startswith("+") or not text:
            if names is not None:
                names.extend([text[1:].strip("_")] if text else [])
                codes.extend(found)
        elif names is None or codes or found:
            names, codes = [text], list(found)
            groups.append((names, codes))
        else:
            names.append(text)
    return groups


def case_word(word, first, korean, kind):
    if "." in word:
        initials = re.fullmatch(r"([A-Z]{1,2}\.)+[A-Z]{0,2}", word) and len(re.findall(r"[A-Z]+", word)) > 1
        return word if initials or re.fullmatch(r"[A-Z]\.?", word) else word.capitalize()
    low = word.lower()
    if word in ACRONYMS or (kind in ("igo", "country") and not re.search(r"[AEIOU]", word)):
        return word
    if low in PARTICLES and not first:
        return low
    if "-" in word:
        head, *tail = word.split("-")
        return "-".join([case_word(head, first, korean, kind)] + [
            p.lower() if korean or p.lower() in PARTICLES else case_word(p, False, False, kind)
            for p in tail])
    if "'" in word:
        pre, post = low.split("'", 1)
        return (pre if pre == "d" and not first else pre.capitalize()) + "'" + (
            post.capitalize() if pre in ("o", "n", "l", "d") else post)
    return "Mc" + low[2:].capitalize() if low.startswith("mc") and len(low) > 3 else low.capitalize()


def case_alias(name, kind, korean=False):
    """UNITED_STATES -> United States; U.S. and NATO stay; THE_UNITED_STATES -> the United States."""
    words = [w for w in name.split("_") if w]
    if kind == "igo" and len(words) == 1 and len(words[0]) <= 6:
        return words[0]                                   # UNSG, ASEAN, UNESCO ...
    out = [case_word(w, i == 0, korean, kind) for i, w in enumerate(words)]
    return " ".join(["the"] + out[1:] if out and out[0] == "The" else out)


def is_junk(name, kind):
    words = [w for w in name.split("_") if w]
    if not words or re.search(r"[\d(),/\\]", name) or any(ord(c) > 0x24F for c in name):
        return True
    if len(re.sub(r"[^A-Za-z]", "", name)) <= 2 and "." not in name and name not in ACRONYMS:
        return True
    return bool(SECTOR & set(words)) if kind != "person" else len(words) < 2


# Phoenix role codes (after the country code) of a state's own organs; groups coded with
# any of NOT_ORGAN (courts, parties, opposition, rebels, civilians …) are not the state
ORGAN_ROLES = {"GOV", "MIL", "SPY", "COP", "LEG"}
NOT_ORGAN = {"JUD", "PTY", "OPP", "REB", "CVL", "ELI", "BUS", "MED", "EDU", "NGO", "IGO", "INS", "CRM"}


def state_organ(codes, countries) -> str | None:
    """The country code of an undated group coded only as that state's organs
    (``[USAGOVLEG]``, ``[RUSSPY]``), else None."""
    if not codes or any(dated for *_, dated in codes):
        return None
    owners = set()
    for c, *_ in codes:
        roles = {c[i:i + 3] for i in range(3, len(c), 3)}
        if c[:3] not in countries or c[3:6] not in ORGAN_ROLES or roles & NOT_ORGAN:
            return None
        owners.add(c[:3])
    return owners.pop() if len(owners) == 1 else None


def phoenix_actors(countries, igo_map, stats):
    """-> [(code, alias, kind)] from the two Phoenix actor files."""
    rows, blocks, persons = [], defaultdict(list), []

    def add(code, name, kind, korean=False):
        if is_junk(name, kind):
            stats[f"phoenix {kind} aliases skipped as junk"] += 1
        else:
            rows.append((code, case_alias(name, kind, korean), kind))

    for fname in ("Phoenix.Countries.actors.txt", "Phoenix.International.actors.txt"):
        for names, codes in read_actor_groups(RAW / fname):
            states = [(hi, c) for c, lo, hi, _ in codes if c in countries and hi is not None]
            igos = {igo_map.get(c) for c, *_ in codes}
            if states:
                blocks[max(states)[1]].append(names)
            elif any(dated for *_, dated in codes):
                persons.append((names, codes))
            elif codes and len(igos) == 1 and None not in igos:
                for n in names:
                    add(next(iter(igos)), n, "igo")
            elif organ := state_organ(codes, countries):
                # a state's own organs (the US Congress, the FBI, the PLA, Mossad): the
                # codebook counts a government, its military and agencies as the state
                for n in names:
                    add(organ, n, "organ")
                    word = n.strip("_")
                    if word.isalpha() and len(word) <= 8 and not is_junk(word, "organ"):
                        # one short word: an acronym as often as a name (FBI, CIA, FSB; Duma, Senate)
                        rows.append((organ, word.upper(), "organ"))
                stats["phoenix state-organ groups (GOV, MIL, SPY, COP, LEG) added"] += 1
            elif fname.startswith("Phoenix.Countries"):
                stats.update(f"phoenix country group skipped, code {c}" for c, *_ in codes
                             if len(c) == 3 and c.isalpha() and c not in countries)
    for code, blist in sorted(blocks.items()):
        caps = {norm(x) for x in split_list(countries[code]["capitals"])}
        dems = {norm(x) for x in split_list(countries[code]["demonyms"])}
        stop = countries[code].get("phoenix_cities_from", "")
        marks = caps if not stop else {norm(stop)} if stop != "-" else set()
        main = [b for b in blist if any(norm(n) in caps | marks for n in b)] or blist[:1]
        stats["phoenix secondary country blocks skipped"] += len(blist) - len(main)
        for names in main:
            cut = next((i for i, n in enumerate(names) if norm(n) in marks), len(names))
            for i, n in enumerate(names):
                kind = "demonym" if norm(n) in dems else "capital" if norm(n) in caps else \
                    "country" if i < cut else None
                if kind:
                    add(code, n, kind, code in ("KOR", "PRK"))
    for names, codes in persons:
        if NOT_PERSON & set("_".join(names).split("_")):
            stats["phoenix dated non-person groups skipped"] += 1
            continue
        cands = [(hi, t) for c, lo, hi, dated in codes if dated and (hi or 0) >= CUTOFF
                 for t in [c[:3] if c[:3] in countries else igo_map.get(c)] if t]
        targets = sorted({t for hi, t in cands if hi == max(cands)[0]}) if cands else []
        if len(targets) > 1:
            stats[f"phoenix person dropped (codes {'/'.join(targets)}): {names[0]}"] += 1
        elif targets:
            korean = any(c[:3] in ("KOR", "PRK") for c, *_ in codes)
            for n in names:
                add(targets[0], n, "person", korean)
    return rows


# family name first: the last word of these names is a given name
HONORIFICS = ("Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.")
FAMILY_NAME_FIRST = {"CHN", "TWN", "HKG", "KOR", "PRK", "VNM", "MNG", "KHM"}


def surnames(manual_rows, stats):
    """Surname aliases of the hand-listed office holders of ``actors_manual.csv``: the
    surname alone ("Liz Truss" -> "Truss") unless it is stoplisted
    (``surname_stoplist.csv``: common words and common surnames) or shorter than four
    letters, and with an honorific ("Mr Brown", "Ms Truss") in any case; none for names
    written family name first or surnames shared by people of different codes."""
    stop = {r["surname"].strip().casefold() for r in read_csv("surname_stoplist.csv")}
    explicit = {r["alias"].casefold() for r in manual_rows}
    found = defaultdict(set)
    for r in manual_rows:
        words = r["alias"].split()
        if r["kind"] != "person" or len(words) < 2 or r["code"] in FAMILY_NAME_FIRST or r["code"] == "-":
            continue
        last = words[-1]
        if words[0] in ("President", "Prime", "Chancellor", "King", "Queen", "Secretary", "Minister", "Mr", "Mrs", "Ms"):
            continue
        if len(last) < 3 or not last[0].isupper():
            continue
        found[last].add(r["code"])
    out = set()
    for last, codes in found.items():
        if len(codes) > 1:
            stats[f"surname {last!r} shared by {'/'.join(sorted(codes))}: not added"] += 1
            continue
        code = next(iter(codes))
        # with an honorific even a common surname is a person of the list ("Mr Brown")
        for title in HONORIFICS:
            if f"{title} {last}".casefold() not in explicit:
                out.add((code, f"{title} {last}", "person", "manual"))
        if len(last) >= 4 and last.casefold() not in stop and last.casefold() not in explicit:
            out.add((code, last, "person", "manual"))
    stats["surname-only aliases derived from actors_manual.csv"] = len(out)
    return out


def build_actors(stats):
    countries = {r["code"]: r for r in read_csv("countries.csv")}
    igo_rows = read_csv("igo_codes.csv")
    igo_map = {r["phoenix_code"]: r["code"] for r in igo_rows if r["phoenix_code"]}
    cands = [(c, a, k, "phoenix") for c, a, k in phoenix_actors(countries, igo_map, stats)]
    for code, r in countries.items():
        for kind, col in (("country", "names"), ("demonym", "demonyms"), ("capital", "capitals")):
            cands += [(code, a, kind, "manual") for a in split_list(r[col])]
    cands += [(r["code"], r["name"], "igo", "manual") for r in igo_rows]
    # an IGO code that is the acronym news uses is an alias too ("the OECD", "the GCC")
    cands += [(c, c, "igo", "manual") for c in sorted({r["code"] for r in igo_rows}) if c in ACRONYMS]
    # both spellings of an organisation's name ("Organisation of American States")
    for c, a, k, src in list(cands):
        for uk, us in SPELLINGS.items():
            if k == "igo" and (uk in a or us in a):
                cands.append((c, a.replace(uk, us) if uk in a else a.replace(us, uk), k, src))
    # plural demonyms: Russian(s), North Korean(s), Swede(s), Finn(s); not the adjectives
    # (Swedish, Chinese, Dutch, Swiss) nor multi-word ones that end in a plural already
    cands += [(c, a + "s", k, s) for c, a, k, s in cands
              if k == "demonym" and re.search(r"[a-z]$", a) and not re.search(r"(ish|ese|ic|ch|sh|s|x|z|y)$", a)]
    manual_rows = read_csv("actors_manual.csv")
    manual = {(r["code"], r["alias"], r["kind"], "manual") for r in manual_rows}
    manual |= surnames(manual_rows, stats)
    by_alias = defaultdict(list)
    for row in cands + sorted(manual):
        by_alias[row[1].casefold()].append(row)
    out = []
    for group in by_alias.values():
        pool = [r for r in group if r in manual] or group
        for old in sorted({r[0] for r in group if r not in manual} - {r[0] for r in pool}):
            stats[f"actors_manual.csv re-codes {group[0][1]!r}: {old} -> {pool[0][0]}"] += 1
        if any(r[0] == "-" for r in pool):
            stats["aliases removed by actors_manual.csv (code -)"] += 1
            continue
        codes = sorted({r[0] for r in pool})
        if len(codes) > 1:
            state = sorted({r[0] for r in pool if r[2] != "person"})
            kept = state[0] if len(state) == 1 else None
            stats[f"ambiguous alias {group[0][1]!r} ({'/'.join(codes)}) -> {kept or 'dropped'}"] += 1
            if not kept:
                continue
            pool = [r for r in pool if r[0] == kept]
        best = min(pool, key=lambda r: (KIND_RANK.get(r[2], 9), r[3] != "phoenix", r[1]))
        out.append(best)
        # actors match case-sensitively: an all-capitals spelling (an acronym) is kept too
        out += sorted({(best[0], r[1], best[2], best[3]) for r in pool
                       if r[1] != best[1] and (r[1].isupper() or best[1].isupper())})
    out.sort(key=lambda r: (r[0], KIND_RANK.get(r[2], 9), r[1].casefold(), r[1]))
    write_csv("actors.csv", ["code", "alias", "kind", "source"], out)
    for c, r in sorted(countries.items()):
        if r["un_member"] == "1" and not any(o[0] == c and o[3] == "phoenix" for o in out):
            stats[f"UN member without Phoenix aliases: {c}"] += 1
    return out


# ------------------------------------------------------------------------------ cues
def goldstein_table():
    """code -> Goldstein score; codes whose row lacks a score (some quoted rows of the raw
    csv are truncated) inherit the score of the nearest ancestor code (163 -> 16)."""
    with open(RAW / "cameo_goldstein.csv", newline="", encoding="utf-8") as fh:
        rows = {r["cameo_code"]: r["goldstein"] or "" for r in csv.DictReader(fh)}
    ancestor = {c: next((c[:n] for n in range(len(c), 0, -1) if rows.get(c[:n])), None) for c in rows}
    return {c: rows[a] for c, a in ancestor.items() if a}


def first_code(text):
    """'[042:043]' -> '042', '[:173]' -> '173', '[---]' -> None."""
    src, _, tgt = text.strip("[] ").partition(":")
    code = src.strip() or tgt.strip()
    return code if code.isdigit() else None


def direction(code, gold):
    """-> (direction or None, code, goldstein) via the longest known prefix of code."""
    while code and code not in gold:
        code = code[:-1]
    if not code:
        return None, None, None
    g = float(gold[code])
    return ("convergence" if g >= 1.0 else "divergence" if g <= -1.0 else None), code, gold[code]


def inflect(phrase):
    """Regular forms of the first word: base, -s/-es, -ed, -ing (+ British -lled/-lling)."""
    w, sep, rest = phrase.partition(" ")
    cy = re.search(r"[^aeiou]y$", w)
    third = w + "es" if re.search(r"(s|x|z|ch|sh|o)$", w) else w[:-1] + "ies" if cy else w + "s"
    if cy:
        past, ing = w[:-1] + "ied", w + "ing"
    elif w.endswith("ie"):
        past, ing = w + "d", w[:-2] + "ying"
    elif w.endswith("e"):
        past, ing = w + "d", w + "ing" if re.search(r"(ee|ye|oe)$", w) else w[:-1] + "ing"
    elif w in DOUBLE_FINAL or re.fullmatch(r"[^aeiou]*[aeiou][bdfgklmnprstvz]", w):
        past, ing = w + w[-1] + "ed", w + w[-1] + "ing"
    else:
        past, ing = w + "ed", w + "ing"
    forms = {w, third, past, ing}
    if re.search(r"[aeiou][^aeiou]+[aeiou]l$", w) and re.search(r"[^aeiou][aeiou]l$", w):
        forms |= {w + "led", w + "ling"}                  # cancelled, travelling
    return sorted(f + sep + rest for f in forms)


def read_verbs():
    """CAMEO.2.0.txt verb blocks -> [(lemma, forms, code, header_code)]. A verb line's own
    [code] (or [---]) overrides its block header; {...} lists the (irregular) forms."""
    lines = (RAW / "CAMEO.2.0.txt").read_text(encoding="utf-8").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("####### VERB PATTERNS"))
    end = next(i for i, l in enumerate(lines) if l.startswith("######## TRANSFORMATIONS"))
    verbs, header = [], None
    for raw in lines[start:end]:
        body = raw.split("#", 1)[0].strip()
        if body.startswith("---"):
            header = first_code(CODE_RE.search(body).group(0))
            continue
        m = re.match(r"\+?([A-Z][A-Z_'.-]*)\s*(\{[^}]*\})?\s*(\[[^\]]*\])?", body)
        if not m or body.startswith(("-", "&")):
            continue
        lemma = m.group(1).strip("_").replace("_", " ").lower()
        if m.group(2) is not None:
            extra = m.group(2).strip("{}").replace(",", " ").split()
            forms = sorted({lemma} | {f.strip("+_").replace("_", " ").lower() for f in extra})
        else:
            forms = inflect(lemma)
        verbs.append((lemma, forms, first_code(m.group(3)) if m.group(3) else header, header))
    return verbs


def build_cues(stats):
    gold = goldstein_table()
    stop = {r["phrase"].lower() for r in read_csv("cues_stoplist.csv")}  # lemma: all its forms
    exact = {p[1:] for p in stop if p.startswith("=")}                 # =form: that form only
    votes = defaultdict(list)  # surface form -> [(direction, code, goldstein, header direction)]
    for lemma, forms, code, header in read_verbs():
        d, c, g = direction(code, gold) if code else (None, None, None)
        if d is None:
            continue
        for f in forms:
            if lemma in stop or f in stop or f in exact:
                stats["cue forms dropped by cues_stoplist.csv"] += 1
            else:
                votes[f].append((d, c, g, direction(header, gold)[0] if header else None))
    out = {}
    for phrase, vs in sorted(votes.items()):
        dirs = Counter(v[0] for v in vs)
        if len(dirs) > 1:  # block headers decide if they agree, else a 2/3 majority, else drop
            heads, (top, n) = {v[3] for v in vs} - {None}, dirs.most_common(1)[0]
            winner = heads.pop() if len(heads) == 1 else top if 3 * n >= 2 * len(vs) else None
            stats[f"cue forms with both directions: {'kept' if winner else 'dropped'}"] += 1
            vs = [v for v in vs if v[0] == winner]
            if not vs:
                continue
        code = Counter(v[1] for v in vs).most_common(1)[0][0]
        out[phrase] = (phrase, vs[0][0], code, next(v[2] for v in vs if v[1] == code), "verb", "cameo")
    for r in read_csv("cues_manual.csv"):
        p = r["phrase"].lower()
        stats["cues_manual rows replacing a generated form"] += p in out
        out[p] = (p, r["direction"], r["cameo_code"], r["goldstein"], r["pos"], "manual")
    rows = sorted(out.values())
    write_csv("cues.csv", ["phrase", "direction", "cameo_code", "goldstein", "pos", "source"], rows)
    return rows


def main():
    stats = Counter()
    actors, cues = build_actors(stats), build_cues(stats)
    print(f"actors.csv: {len(actors)} rows", dict(sorted(Counter(r[2] for r in actors).items())))
    print(f"cues.csv: {len(cues)} rows", dict(sorted(Counter(r[1] + "/" + r[5] for r in cues).items())))
    print("\n".join(f"  {key}: {n}" for key, n in sorted(stats.items())))


if __name__ == "__main__":
    main()
