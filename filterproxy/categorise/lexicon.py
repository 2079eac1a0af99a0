"""Hand-written multilingual word lists: the words a name gives itself away by, and words that protect it.

Written for this project (English, French, German, Spanish, Portuguese, Italian, Dutch, Polish,
Indonesian/Malay, Vietnamese, Japanese romaji, Russian transliteration, Thai romanisation). They
are features of the learned model (``l:<category>``), never a verdict on their own, except that a
*protective* word (help, awareness, education, recovery...) or a vetted public-sector suffix caps
a model verdict at ``log``: ``begambleaware.org``, ``talktofrank.com``, ``sussex.ac.uk`` are never
blocked by the model; nor is ``hausgemachte-nudeln.de`` (an *accidental* word: ``nudel`` holds
``nude``).
"""

from __future__ import annotations

import re

from filterproxy.model import Category

#: Words long enough to be matched anywhere in a name (``freeporntube`` contains ``porn``).
WORDS: dict[Category, tuple[str, ...]] = {
    Category.ADULT: (
        "porn", "porno", "pr0n", "xxx", "sexy", "sexcam", "sexvid", "sextube", "hentai", "milf", "nude", "nudes",
        "naked", "fuck", "pussy", "boobs", "tits", "titty", "blowjob", "anal", "bdsm", "fetish", "camgirl",
        "webcam", "escort", "hooker", "slut", "whore", "horny", "erotic", "erotik", "erotica", "xvideo", "xnxx",
        "xhamster", "redtube", "youporn", "onlyfans", "nsfw", "lesbian", "gayporn", "shemale", "tranny", "ladyboy",
        "jav", "javhd", "av女優", "ero", "hamedori", "chikan", "oppai", "cumshot", "creampie", "gangbang",
        "bukkake", "orgasm", "orgy", "stripper", "striptease", "voyeur", "upskirt", "handjob", "footjob",
        "deepthroat", "dildo", "vibrator", "sextoy", "hardcore", "softcore", "amateur", "teenporn", "nubile",
        "puta", "putas", "culo", "coño", "follar", "sexo", "desnuda", "tetas", "pornô", "buceta", "safada",
        "ficken", "nackt", "geil", "muschi", "titten", "sexe", "baise", "salope", "chatte", "nichons", "cul",
        "scopata", "figa", "troia", "neuken", "kutje", "seks", "cipki", "ruchanie", "bokep", "ngentot", "memek",
        "porr", "knulla", "phim", "sex", "ebony", "busty", "bigtits", "pornstar", "camsex", "livesex",
    ),
    Category.GAMBLING: (
        "casino", "kasino", "cassino", "casinos", "bet", "bets", "betting", "poker", "slots", "slot", "roulette",
        "blackjack", "baccarat", "jackpot", "lotto", "lottery", "bingo", "sportsbook", "bookmaker", "wager",
        "gamble", "gambling", "spins", "freespins", "apuesta", "apuestas", "scommesse", "wetten", "paris",
        "judi", "togel", "sbobet", "taruhan", "situs", "gacor", "maxwin", "nhacai", "casinoonline", "xoso",
        "lode", "keo", "cuoc", "bongda", "pachinko", "pachislot", "kazino", "stavki", "bukmeker", "vulkan",
        "joker", "pragmatic", "pokies", "craps", "keno", "dice", "odds", "tipster", "betfair", "bet365",
        "1xbet", "mostbet", "pinup", "melbet", "parimatch", "rummy", "teenpatti", "satta", "matka",
    ),
    Category.DRUGS: (
        "cannabis", "marijuana", "weed", "ganja", "kush", "stoner", "420", "thc", "cbd", "hemp", "bong",
        "headshop", "smokeshop", "growshop", "seedbank", "seeds", "vape", "vapes", "vaping", "vapor", "ejuice",
        "eliquid", "kratom", "psychedelic", "shroom", "shrooms", "mushroom", "lsd", "mdma", "ecstasy", "cocaine",
        "coke", "heroin", "meth", "opium", "ketamine", "dmt", "ayahuasca", "peyote", "salvia", "psilocybin",
        "dispensary", "edibles", "dabs", "blunt", "joint", "hashish", "haschisch", "chanvre", "beuh", "cannabe",
        "marihuana", "porro", "droga", "drogas", "drogue", "drogen", "kiffen", "research-chemicals", "rcshop",
        "legalhighs", "nootropic", "steroid", "steroids", "anabolic", "pharmacy", "pills", "viagra", "cialis",
        "tramadol", "xanax", "oxycodone", "valium", "adderall", "modafinil", "rx", "meds", "opioid", "cartel",
        "narco", "ganjah", "sativa", "indica", "grow", "growbox", "hydroponic", "420seeds", "smoke", "tobacco",
        "cigar", "cigarette", "hookah", "shisha", "liquor", "booze", "vodka", "whisky", "beer", "wine",
    ),
    Category.HATE: (
        "nazi", "neonazi", "aryan", "whitepower", "whitepride", "kkk", "klan", "klansmen", "stormfront",
        "skinhead", "88", "14words", "siege", "hitler", "reich", "fascist", "fascism", "supremacy", "supremacist",
        "nationalist", "nationalism", "racial", "racist", "race", "white", "heritage", "patriot", "identity",
        "zionist", "jihad", "jihadi", "kafir", "infidel", "crusade", "holohoax", "revisionist", "nigger", "kike",
        "fag", "fags", "faggot", "homo", "sodomite", "islamophobia", "antijew", "antiislam", "volk", "völkisch",
        "widerstand", "rechts", "heimat", "vlaams", "natsoc", "blood", "honor", "honour", "odinist", "wotan",
        "combat18", "hammerskin", "goy", "goyim", "alt-right", "altright", "redpill", "incel",
    ),
    Category.VIOLENCE: (
        "gore", "snuff", "bestgore", "beheading", "behead", "execution", "murder", "killing", "kill", "kills",
        "death", "dead", "deadly", "corpse", "cadaver", "morgue", "brutal", "torture", "massacre", "shooting",
        "bloody", "blood", "crash", "accident", "fight", "fights", "brawl", "bagarre", "violence", "violent",
        "shock", "shocking", "rotten", "sick", "gruesome", "horror", "carnage", "mutilation", "suicide",
        "weapon", "weapons", "gun", "guns", "ammo", "knife", "sniper", "terror", "terrorist", "bomb", "isis",
        "liveleak", "kaotic", "theync", "crazyshit", "documentingreality", "hoodsite", "gorecenter", "motherless",
    ),
    Category.SOCIAL: (
        "facebook", "fbcdn", "fbsbx", "instagram", "cdninstagram", "tiktok", "tiktokv", "tiktokcdn", "bytedance",
        "byteoversea", "ibyteimg", "musical", "snapchat", "sc-cdn", "twitter", "twimg", "whatsapp", "telegram",
        "discord", "discordapp", "reddit", "redditmedia", "redditstatic", "tumblr", "pinterest", "pinimg",
        "linkedin", "licdn", "myspace", "vk", "vkontakte", "userapi", "weibo", "wechat", "kakao", "line-apps",
        "naver", "mixi", "ameba", "gree", "mastodon", "threads", "bluesky", "bsky", "truthsocial", "gab",
        "parler", "gettr", "minds", "ask", "tellonym", "yubo", "badoo", "tinder", "bumble", "grindr", "hinge",
        "omegle", "chatroulette", "kik", "viber", "signal", "quora", "meetme", "tagged", "hi5", "friendster",
        "social", "chat", "messenger", "snap", "insta", "tweet", "selfie", "likee", "kwai", "triller",
        "clubhouse", "periscope", "vine", "ok", "odnoklassniki", "douyin", "xiaohongshu", "bilibili",
    ),
}

#: Words of help, education and public service: a name carrying one is never blocked by the model.
PROTECTIVE: tuple[str, ...] = (
    "aware", "awareness", "anonymous", "recovery", "rehab", "rehabilitation", "prevention", "prevent",
    "education", "educat", "school", "academy", "college", "university", "univ", "museum", "memorial",
    "library", "council", "hospital", "clinic", "health", "nhs", "helpline", "help", "support", "advice",
    "counsel", "charity", "foundation", "against", "quit", "treatment", "therapy", "research",
    "institute", "science", "safety", "safe", "protect", "police", "court", "justice", "gov", "parliament",
    "history", "holocaust", "remembrance", "antiracism", "tolerance", "equality", "rights", "victim",
    "survivor", "childline", "samaritans", "brook", "fpa", "sexualhealth", "sexeducation", "gamcare",
    "gamstop", "begambleaware", "talktofrank", "drugwise", "adfam", "nspcc", "barnardo", "sexwise",
)

#: Ordinary words that contain a harmful-looking word by accident (the Scunthorpe problem), in the
#: languages of the lexicon: a name carrying one is at most logged by the model.
ACCIDENTAL: tuple[str, ...] = (
    "nudel", "sussex", "essex", "wessex", "middlesex", "analys", "analyt", "analog", "canal", "banal",
    "cocktail", "peacock", "hitchcock", "hancock", "cockpit", "cockburn", "shuttlecock", "woodcock",
    "scunthorpe", "penistone", "therapist", "cumbria", "cumberland", "cumulus", "document", "petit",
    "appetit", "sextant", "sexton", "pussycat", "method", "skill", "expertsexchange", "titan",
    "arsenal", "grapes", "shitake", "shiitake", "bassett", "dickens", "hardcorefitness", "sexta",
)

#: Public suffixes whose registrants are vetted (government, schools, universities, health, police):
#: the model may log a name under these, never block it.
VETTED_SUFFIXES: tuple[str, ...] = (
    "gov", "edu", "mil", "int", "gov.uk", "ac.uk", "sch.uk", "nhs.uk", "police.uk", "mod.uk", "parliament.uk",
    "gov.scot", "gov.wales", "ac.nz", "govt.nz", "school.nz", "edu.au", "gov.au", "gc.ca", "gouv.fr", "gov.ie",
    "edu.ie", "ac.jp", "go.jp", "ac.in", "gov.in", "edu.in", "ac.za", "gov.za", "edu.sg", "gov.sg",
)
_VETTED = frozenset(VETTED_SUFFIXES)

_SHORT = 4  # words shorter than this count only as a whole token (``bet`` in ``bet-now``, not ``alphabet``)


def _trie(words: list[str]) -> str:
    """A regex alternation shaped as a trie (one branch per first letter), so matching stays linear."""
    if not words or words == [""]:
        return ""
    heads: dict[str, list[str]] = {}
    ends = False
    for word in words:
        if word:
            heads.setdefault(word[0], []).append(word[1:])
        else:
            ends = True
    branches = [re.escape(h) + _trie(sorted(set(rest))) for h, rest in sorted(heads.items())]
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _finder(words: list[str]) -> re.Pattern[str]:
    return re.compile("(?=(" + _trie(sorted(set(words))) + "))")


_OWNERS: dict[str, list[Category]] = {}
for _category, _words in WORDS.items():
    for _word in _words:
        if len(_word) >= _SHORT:
            _OWNERS.setdefault(_word, []).append(_category)
#: first four letters -> the long words starting with them: a name's 4-grams find its words in a few lookups
_BY_HEAD: dict[str, tuple[str, ...]] = {}
for _word in sorted(_OWNERS):
    _BY_HEAD[_word[:_SHORT]] = (*_BY_HEAD.get(_word[:_SHORT], ()), _word)
_WHOLE = {category: frozenset(w for w in words if len(w) < _SHORT) for category, words in WORDS.items()}
_ANY_WHOLE = frozenset().union(*_WHOLE.values())
_PROTECTIVE = _finder(list(PROTECTIVE) + list(ACCIDENTAL))
_SPLIT = re.compile(r"[-_.]")


def _found(text: str) -> set[str]:
    """Every lexicon word (of four letters or more) occurring in ``text``, overlaps included."""
    heads = _BY_HEAD
    out: set[str] = set()
    for i in range(len(text) - _SHORT + 1):
        words = heads.get(text[i : i + _SHORT])
        if words is not None:
            out.update(w for w in words if text.startswith(w, i))
    return out


def lexicon_hits(text: str) -> list[str]:
    """``<category>`` once per category whose word occurs in ``text`` (a name without its suffix)."""
    hit = {category for word in _found(text) for category in _OWNERS[word]}
    parts = set(_SPLIT.split(text))
    if not parts.isdisjoint(_ANY_WHOLE):
        hit.update(category for category, short in _WHOLE.items() if not parts.isdisjoint(short))
    return [category.value for category in WORDS if category in hit] if hit else []


def lexicon_words(text: str, category: Category) -> list[str]:
    """The words of ``category`` found in ``text`` (for the evidence shown to people), longest first."""
    words = sorted((w for w in _found(text) if category in _OWNERS[w]), key=lambda w: (-len(w), w))
    return words + sorted(set(_SPLIT.split(text)) & _WHOLE[category])


def protective(body: str, suffix: str) -> str | None:
    """The protective word or vetted suffix that caps a model verdict at log, if any."""
    if suffix in _VETTED or suffix.rpartition(".")[2] in _VETTED or suffix.partition(".")[2] in _VETTED:
        return suffix
    match = _PROTECTIVE.search(body)
    return match.group(1) if match and match.group(1) else None
