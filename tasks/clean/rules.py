"""Line-shape recognizers: interface lines (menus, ads, share bars) and bylines, by their shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.text.keys import shape_key, words_key

# --------------------------------------------------------------------------------------------
# UI rules: each recognises one kind of interface line by its shape
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule: a full-line pattern on the line's words or its shape."""

    reason: str
    pattern: re.Pattern[str]
    on_words: bool = True  # match the words-only key; False: the shape key with symbols
    labelled: bool = False  # may carry a payload, so the longer word cap applies
    allow_period: bool = False  # UI strings rarely end with "."; prose does

    def matches(self, shape: str, words: str, n_words: int, ui_max: int, labelled_max: int) -> bool:
        """Tell whether the rule removes this line."""
        cap = labelled_max if self.labelled else ui_max
        if n_words > cap or (not self.allow_period and shape.endswith(".")):
            return False
        return bool(self.pattern.fullmatch(words if self.on_words else shape))


LANGUAGES = (
    r"english|french|fran[cç]ais|spanish|espa[nñ]ol|german|deutsch|italian|italiano"
    r"|portuguese|portugu[eê]s|russian|русский|arabic|العربية|armenian|հայերեն"
    r"|chinese|中文|japanese|日本語|korean|한국어|turkish|t[uü]rk[cç]e|persian|farsi"
    r"|فارسی|hindi|हिन्दी|ukrainian|українська|dutch|nederlands|polish|polski|greek"
    r"|ελληνικά|hebrew|עברית|azerbaijani|az[əe]rbaycan(?:ca)?|georgian|ქართული"
    r"|creole|kreol|morisien"
)
TEMPERATURE = r"-?\d{1,3}(?:[.,]\d+)?\s?(?:°|º|˚)?\s?[cf]|-?\d{1,3}(?:[.,]\d+)?\s?(?:°|º|˚)"

# Patterns below are matched whole (fullmatch) against the line's words-only key unless
# marked as shape patterns (they need symbols: °, +, -, ©, ":"). Each must run in linear time
# on any line (tests/test_regex_safety.py): no two ways to match the same text inside a
# repetition, or a hostile line ("A" * 60 + "H!") makes the matcher try them all.
WEATHER = rf"""
    (?:[a-z]+(?:\s[a-z]+)?,?\s)?(?:{TEMPERATURE})(?:\s?/\s?(?:{TEMPERATURE}))?
  | (?:humidity|wind|feels\slike|high|low)\s?:?\s?-?[\d.,]+\s?(?:%|km/h|mph|°[cf]?)
"""
APP_PROMO = r"""
    (?:download|get|install|try)(?:\s(?:the|our|free))?(?:\s[\w'&-]+){0,3}
    \sapp(?:lication)?s?(?:\s(?:now|here|today|for\sfree))?
  | (?:(?:available|get\sit|download\sit)\son\s)?(?:the\s)?
    (?:app\sstore|google\splay|play\sstore)
    (?:\s(?:and|or)\s(?:the\s)?(?:app\sstore|google\splay|play\sstore))?
"""
LANGUAGE_SWITCH = rf"""
    (?:read|view|see|lire|leer|lesen|switch\sto|also\savailable|available|version|versión)
    (?:\s(?:this|the|it|cet|l|la|el|este))?
    (?:\s(?:article|story|page|post|artikel|artículo))?
    (?:\s(?:is|also))*(?:\s(?:in|en|auf|au))?\s(?:{LANGUAGES})(?:\s(?:version|edition))?
  | (?:{LANGUAGES})(?:\s(?:{LANGUAGES}))*
"""
SECTION_LABEL = r"""
    must\sreads?|trending(?:\s(?:now|news|stories|topics))?|top\s(?:stories|story|news)
  | editors?\ss?\s?(?:picks?|choice)|breaking(?:\snews)?|popular(?:\snow)?
  | most\s(?:popular|read|viewed|shared|commented)
  | featured(?:\s(?:stories|articles|news))?|in\sfocus|highlights|spotlight
  | don\st\smiss|do\snot\smiss|recommended(?:\sfor\syou)?|just\sin|hot\stopics
  | what\ss\shot|latest(?:\supdates)?|(?:top\s)?headlines
  | inhaltsverzeichnis|table\sof\scontents|contents|[ií]ndice|sommaire|spis\stre[sś]ci
  | top[\s-]themen(?:\s\w+){0,4}|meistgelesen(?:e\sartikel)?|lo\sm[aá]s\sle[ií]do|les\splus\slus
"""
RELATED_LINKS = r"""
    (?:more|latest|related|recent|similar|other|previous|next|recommended|popular|top)
    (?:\s\w+)?\s
    (?:articles?|stories|story|news|posts?|reads|videos|content|coverage|reading)
  | related|see\salso|read\smore|read\salso|also\sread|read\snext|more\sto\sread|up\snext
  | you\s(?:may|might)(?:\salso)?\s(?:like|enjoy|be\sinterested\sin)
  | more\s(?:from|on|in)\s[\w\s]{1,40}|previous|next
  | weiter\s?lesen|mehr\slesen|mehr\szum\sthema|mehr\serfahren|lesen\ssie\s(?:auch|mehr)
  | (?:das|dies)\sk[oö]nnte\s(?:sie|dich)\s(?:auch\s)?interessieren|auch\sinteressant
  | (?:[äa]hnliche|verwandte|weitere)\s(?:artikel|beitr[äa]ge|nachrichten|themen|meldungen)
  | zur[uü]ck(?:\szur\s[uü]bersicht|\szur\sstartseite|\snach\soben)?|nach\soben
  | back(?:\sto\s(?:top|overview|list|home))?|leer\sm[aá]s|lee\stambi[eé]n|ver\sm[aá]s
  | (?:art[ií]culos|noticias|notas)\srelacionad[ao]s|lesen\ssie\sauch\s.{0,40}|lire\s(?:aussi|la\ssuite|plus)|[àa]\slire\saussi
  | voir\saussi|sur\sle\sm[eê]me\ssujet|czytaj\s(?:te[zż]|wi[eę]cej)|zobacz\sr[oó]wnie[zż]
"""
RELATED_LABEL = r"""
    (?:read\smore|read\salso|also\sread|see\salso|related|read\snext|more|watch
      |lea|lea\sm[aá]s|lea\stambi[eé]n|lee\stambi[eé]n|ver\stambi[eé]n|leia\stamb[eé]m
      |lesen\ssie\s(?:auch|mehr)|siehe\sauch|mehr\szum\sthema|mehr\sdazu|auch\sinteressant
      |lire\saussi|[àa]\slire(?:\saussi)?|voir\saussi|czytaj\s(?:te[zż]|wi[eę]cej)|zobacz\ste[zż]
      |related\s(?:posts?|articles?|stor(?:y|ies)|content|reading|coverage)|see\smore|also\ssee
      |more\son\sthis|don\st\smiss|mira|puedes\sver|ver\sm[aá]s|(?:tambi[eé]n\s)?(?:le|te)\spuede\sinteresar|lee\sm[aá]s)
    \s?[:|»>]\s?.+"""
ADVERTISEMENT = r"""
    [\W_]*
    (?:advertisements?|advertising|advert|ads?|sponsored(?:\s(?:content|links?|post))?
      |paid\s(?:content|post)|promoted(?:\scontent)?|partner\scontent|anzeige
      |publicit[ée]|publicidad)
    [\W_]*+(?:spot_img[\W_]*+)?
  | .*\bspot_img\b.*
  | (?:story|article|text)\scontinues\s(?:below|after)(?:\s(?:this|the))?
    \s(?:advertisement|ad)
  | (?:(?:advertisement|ad)[\W_]*)?scroll\s(?:down\s)?to\scontinue(?:\s(?:reading|with\scontent))?
  | continue\sreading\s(?:below|after\sthe\s(?:ad|advertisement))
  | (?:skip|close|report)(?:\sthis)?\sad|ad\sfeedback
"""
COMMENT_FORM = r"""
    please\senter\syour\s(?:comment|name|email|e\smail)(?:\saddress)?(?:\shere)?
  | you\shave\sentered\san\sincorrect\s(?:email|e\smail)\saddress(?:\splease\senter.*)?
  | leave\s(?:a|your)\s(?:reply|comment|response)(?:\scancel\sreply)?|cancel\sreply
  | (?:post|submit|add)(?:\sa|\syour)?\scomments?|\d*\s?comments?(?:\s\d+)?|no\scomments(?:\syet)?
  | be\sthe\sfirst\sto\scomment|join\sthe\s(?:conversation|discussion)
  | (?:show|view|load|hide|read)(?:\sall)?\scomments?|comments?\s(?:are\s)?closed
  | log\s?in\sto\s(?:comment|reply)
  | save\smy\sname\s(?:e\s?mail\s)?(?:and\s)?(?:e\s?mail\s)?(?:and\s)?website
    \sin\sthis\sbrowser\sfor\sthe\snext\stime\si\scomment
  | your\s(?:e\s?mail\s)?(?:address\s)?will\snot\sbe\spublished
    (?:\srequired\sfields\sare\smarked)?
  | required\sfields\sare\smarked
  | reply|antworten|responder|r[ée]pondre|rispondi|odpowiedz|beantworten
  | (?:\d+\s)?(?:kommentare?|comentarios?|commentaires?|commenti|komentarze?)(?:\s\d+)?
  | (?:kommentar|comentario|commentaire)\s(?:schreiben|verfassen|abgeben|hinzuf[uü]gen)
  | (?:schreibe|hinterlasse)\s(?:einen|deinen)\skommentar|deja\sun\scomentario
  | laisser\sun\scommentaire|abbrechen|cancelar\srespuesta
  | (?:top|most|best|newest|oldest|latest|popular)(?:\srated|\sliked)?\scomments?
  | (?:view|see|show)\sall(?:\s\d+)?(?:\scomments?|\sreplies)?|rating\s\d+\svotes?
  | \d+\s(?:likes?|votes?|replies|antworten|respuestas)
"""
# "2 days ago at 07:52 am", "vor 3 Stunden": comment and feed timestamps, never a publication date.
RELATIVE_TIME = r"""
    (?:\d+|an?|one)\s(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\sago
      (?:\s(?:at\s)?\d{1,2}\s?\d{2}\s?(?:am|pm)?)?
  | vor\s(?:\d+|einer?|einem)\s(?:sekunden?|minuten?|stunden?|tag(?:en)?|wochen?|monat(?:en)?|jahr(?:en)?)
  | hace\s(?:\d+|un|una)\s(?:segundos?|minutos?|horas?|d[ií]as?|semanas?|mes(?:es)?|a[nñ]os?)
  | il\sy\sa\s(?:\d+|un|une)\s(?:secondes?|minutes?|heures?|jours?|semaines?|mois|ans?)
"""
COMMENT_HEADER = r"[\w .'’@-]{1,40}\s(?:sagt|schreibt|schrieb|dice|dit|pisze)\s?:"
# Buttons "A+", "A-", "AA", "A A": after the first, each is an "a" with an optional sign
# ("aa" is two of them), taken greedily and never given back.
FONT_BUTTONS = r"""
    (?:a\s?[+-]|aa|a\sa\s?[+-]?)(?:\s?a\s?[+-]?)*+
"""
FONT_LABEL = r"""
    (?:(?:increase|decrease|reset|change|adjust|larger|smaller)\s)?(?:font|text)(?:\ssize)?
    (?:\s(?:increase|decrease|reset|larger|smaller|a))*
"""
READING_TIME = r"""
    (?:estimated\s)?(?:reading|read)\stime(?:\s(?:about\s)?\d+\s(?:min|mins|minutes?))?
  | (?:about\s)?\d+(?:\s\d+)?\s(?:min|mins|minutes?)
    \s(?:read|reading|de\slecture|lecture|lesezeit|de\slectura|lectura)(?:\stime)?
  | (?:lecture|lesezeit|lectura|temps\sde\slecture)\s\d+\s(?:min|mins|minutes?)
"""
# Each word once: a word listed twice doubles the ways to match a row of them.
SHARE_WORDS = r"""share|shares|tweet|facebook|twitter|whatsapp|linkedin|telegram|email|e\smail
|teilen|compartir|partager|condividi|udost[eę]pnij|drucken|imprimir|imprimer|print|pinterest|xing
    |reddit|messenger|copy\slink|link\scopied|flipboard"""
SOCIAL_SHARE = rf"(?:{SHARE_WORDS})(?:\s(?:{SHARE_WORDS}|x|on|this|article|story|via|the|\d+))*"
CALL_TO_ACTION = r"""
    subscribe(?:\s(?:now|today|here))?|sign\s(?:up|in)(?:\snow)?|log\s?in
  | register(?:\snow)?|follow\sus(?:\son\s[\w\s]{1,30})?|join\s(?:us|our)\s[\w\s]{1,40}
  | (?:click|tap)\shere(?:\s[\w\s]{1,60})?
  | (?:sign\sup|subscribe)\s(?:for|to)\s(?:our|the|free)[\w\s]{0,60}
  | get\s(?:our|the)[\w\s]{0,40}newsletters?[\w\s]{0,40}|newsletters?
  | support\s(?:our|independent)?\s?journalism[\w\s]{0,40}|donate(?:\s(?:now|today))?
  | become\sa\s(?:member|subscriber|patron)[\w\s]{0,40}
  | already\sa\s(?:subscriber|member)[\w\s]{0,40}
  | continue\sreading|subscribe\sto\scontinue\sreading
  | (?:jetzt\s|kostenlos\s|hier\s)*(?:abonnieren|anmelden|registrieren)(?:\s\w+){0,3}
  | (?:newsletter\s)?(?:abonnieren|bestellen)|abonnieren\ssie\s.{0,80}|suscr[ií]bete.{0,80}
  | [úu]nete.{0,80}|abonnez[\s-]vous.{0,80}|inscrivez[\s-]vous.{0,80}|zapisz\ssi[eę].{0,80}
  | download\s(?:the|our)\s.{0,40}apps?.{0,60}|jump\sto\srecipe(?:\sprint\srecipe)?
  | print\srecipe|weiter|mehr|more
  | .{0,40}\bnewsletters?|(?:never|don\st)\smiss\b.{0,80}
  | (?:get|receive|erhalten\ssie|recibe|recevez)\b.{0,60}\b(?:newsletter|inbox|posteingang)\b.{0,60}
  | .{0,60}\b(?:our|unser\w*|nuestr\w*|notre|nos)\s(?:\w+\s)?newsletters?\b.{0,80}
  | (?:sign\sup|subscribe|abonnieren|suscr[ií]bete|reg[ií]strate|inscrivez[\s-]vous)\b.{0,80}
  | explore\sfurther|order\sreprints
"""
COPYRIGHT = r"""(?:©|\(c\)|copyright\b).*
  | .*\b(?:all\srights\sreserved|alle\srechte\svorbehalten|todos\slos\sderechos\sreservados
        |tous\sdroits\sr[ée]serv[ée]s|wszelkie\sprawa\szastrze[zż]one)\b.*"""
TAGS = r"""
    (?:tags|tagged(?:\swith)?|topics|keywords|filed\sunder|categories|category|kategorien?
      |schlagw[oö]rter|schlagworte|stichw[oö]rter|themen|etiquetas|categor[ií]as?|temas
      |cat[ée]gories?|mots[\s-]cl[ée]s|tagi|kategorie)\s?:.*"""
# A credit label ("Photo: X"), a caption ending in one ("... (Image: Getty)"), or a caption
# ending in a picture agency after a slash, bar or bracket ("Jane Doe/Getty Images",
# "(REUTERS/Denis Balibouse)"): a sentence that merely names an agency has none of these.
# The names before the agency ("Jane Doe / Pool / Getty") each start after one optional
# space and are taken whole, so a row of slashes splits only one way.
PHOTO_CREDIT = r"""
    (?:photo|photos|image|images|picture|file\sphoto|photograph|credit|credits
      |photo\scredit|image\scredit|image\ssource|foto|fotos|bild|bilder|fotograf[ií]a
      |cr[ée]dits?\sphotos?|zdj[eę]cie|[źz]r[oó]d[łl]o|bildquelle|fot)
    \s?(?::|/|by\b|\.)\s?.{1,80}
  | .{1,200}[.\s(](?:photo|foto|bild|fotos|image|zdj[eę]cie|[źz]r[oó]d[łl]o|quelle|fuente)\s?:\s?(?:(?!\.\s)[^:]){1,60}
  | .{0,200}(?:[/|(]|\bvia\b|\bcredit\b\W*)(?:\s?(?>[\w.'’&-][\w .'’&-]{0,39})\s?[/|])*
    \s?(?:getty(?:\simages)?|shutterstock|reuters|afp|ap|epa|dpa|istock(?:photo)?|imago(?:\simages)?
      |bloomberg|xinhua|anadolu|sipa|picture\salliance|alamy|zuma(?:\spress)?|keystone|ansa)
    (?:\s(?:file|photo|images?|pool))?(?:\s?/\s?[\w .'’-]{1,40})?\)?
"""
# What a sign-up form says back: full sentences, so they may end with a period.
SIGNUP_NOTICE = r"""
    thanks?\s(?:you\s)?for\s(?:signing\sup|subscribing|registering).{0,60}
  | keep\san\seye\son\syour\sinbox.{0,60}|check\syour\sinbox.{0,60}
  | (?:sorry|oops)|(?:an\s)?error\s(?:has\s)?occurred.{0,60}|please\stry\sagain(?:\slater)?
  | there\swas\san\serror\s(?:processing|with)\s.{0,60}
"""
# Reporter credits under wire and newspaper stories: who reported or edited, not the story.
# Each ", editing by" starts the next credit: one credit's names never run over it (else a
# row of them splits every way), and an address is taken whole.
CREDIT_NEXT = r"[,;]\s?(?:additional\s)?(?:editing|writing|reporting)\sby\s"
CREDITS = rf"""
    \((?:additional\s)?(?:reporting|writing|editing|compiled|produced)\sby\s.{{2,200}}
  | (?:additional\s)?reporting\sby\s[^,.;]{{2,60}}
    (?:{CREDIT_NEXT}(?:(?!{CREDIT_NEXT})[^;]){{2,100}})+
  | .{{2,120}}\scontributed\s(?:reporting|to\sthis\s(?:report|story|article)).{{0,80}}
  | (?:write|email|contact)\s(?:to\s)?.{{2,60}}\sat\s(?>\S+@\S+)
"""
# A row of footer links: imprint, privacy, contact, terms, in the languages we see.
FOOTER_WORDS = r"""impressum|datenschutz(?:erkl[äa]rung)?|kontakt|agb|privacy(?:\spolicy)?|terms
    (?:\sof\s(?:use|service))?|cookies?(?:\s(?:policy|settings|einstellungen|richtlinie))?
    |contact(?:\sus)?|about(?:\sus)?|imprint|legal(?:\snotice)?|disclaimer|sitemap|rss
    |mentions\sl[ée]gales|aviso\slegal|pol[ií]tica\sde\s(?:privacidad|cookies)|contacto
    |nutzungsbedingungen|barrierefreiheit|[üu]ber\suns|accessibility|advertise|werbung
    |mediadaten|jobs|karriere|careers|home|startseite|inicio|accueil"""
FOOTER_LINKS = rf"(?:{FOOTER_WORDS})(?:\s(?:{FOOTER_WORDS}))+"


def _rule(reason: str, pattern: str, **flags: bool) -> Rule:
    """A rule with its pattern compiled in verbose mode (so vocabularies stay readable).

    Anchored at the start: rules are matched whole, and a search of an unanchored pattern
    would retry it from every character of a long line.
    """
    return Rule(reason, re.compile(rf"\A(?:{pattern})", re.VERBOSE), **flags)


# In order: the first rule that matches names the reason.
RULES: tuple[Rule, ...] = (
    _rule("separator", r"[\W_]*", on_words=False, allow_period=True),
    _rule("weather", WEATHER, on_words=False),
    _rule("app_promo", APP_PROMO),
    _rule("language_switch", LANGUAGE_SWITCH),
    _rule("section_label", SECTION_LABEL),
    _rule("related_links", RELATED_LINKS),
    _rule("related_links", RELATED_LABEL, on_words=False, labelled=True, allow_period=True),
    _rule("advertisement", ADVERTISEMENT, on_words=False),
    _rule("comment_form", COMMENT_FORM, labelled=True, allow_period=True),
    _rule("comment_header", COMMENT_HEADER, on_words=False),
    _rule("relative_time", RELATIVE_TIME),
    _rule("font_size_control", FONT_BUTTONS, on_words=False),
    _rule("font_size_control", FONT_LABEL),
    _rule("reading_time", READING_TIME),
    _rule("social_share", SOCIAL_SHARE),
    _rule("call_to_action", CALL_TO_ACTION),
    _rule("call_to_action", SIGNUP_NOTICE, allow_period=True),
    _rule("copyright", COPYRIGHT, on_words=False, labelled=True, allow_period=True),
    _rule("tags", TAGS, on_words=False, labelled=True, allow_period=True),
    _rule("photo_credit", PHOTO_CREDIT, on_words=False, labelled=True, allow_period=True),
    _rule("footer_links", FOOTER_LINKS),
    _rule("credits", CREDITS, on_words=False, labelled=True, allow_period=True),
)


# Consent banners run long, so they get their own word cap; a sentence must tie cookies to
# consent or to the site's own use of them, so an article about cookie law stays.
COOKIE_NOTICE = re.compile(
    r"""\bcookies?\b.{0,300}?\b(?:accept|agree|consent|akzeptier|zustimm|einverstanden|einwillig
        |acept|settings|einstellungen|configuraci|param[eè]tres)\w*
      | \b(?:we\suse|this\s(?:web)?site\suses|wir\sverwenden|wir\snutzen|diese\swebsite
        \s(?:verwendet|nutzt)|utilizamos|usamos|nous\sutilisons|ce\ssite\sutilise)\b
        .{0,80}?\bcookies?\b""",
    re.IGNORECASE | re.VERBOSE,
)
COOKIE_MAX_WORDS = 80


def ui_rule(line: str, ui_max_words: int, labelled_max_words: int) -> str | None:
    """The reason of the first UI rule that removes a line, or None for a line that stays."""
    n_words = len(line.split())
    if n_words <= COOKIE_MAX_WORDS and COOKIE_NOTICE.search(line):
        return "cookie_notice"
    if n_words > max(ui_max_words, labelled_max_words):
        return None  # prose: skip the keys and the patterns
    shape = shape_key(line)
    words = words_key(shape)
    return next(
        (
            r.reason
            for r in RULES
            if r.matches(shape, words, n_words, ui_max_words, labelled_max_words)
        ),
        None,
    )


def font_size_neighbours(text: Sequence[str], rules: dict[int, str]) -> None:
    """A lone "A" is a font-size button only beside other font-size buttons (A+, A-)."""
    nonblank = [i for i, t in enumerate(text) if t]
    for pos, i in enumerate(nonblank):
        if i in rules or text[i] not in ("A", "a"):
            continue
        around = nonblank[max(pos - 1, 0) : pos + 2]
        if any(rules.get(j) == "font_size_control" for j in around if j != i):
            rules[i] = "font_size_control"


# --------------------------------------------------------------------------------------------
# Bylines
# --------------------------------------------------------------------------------------------

NAME = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|van|von|de|del|der|da|di|al|bin|ibn|le|la)){0,4}"
# The words joining names are whole words: "Amy" is never "Am" and "y", else a row of such
# names splits every way ("By " + "Amy " * 40 + "!" took hours).
BYLINE = re.compile(
    rf"^(?:[Bb]y|BY|[Ww]ritten by|[Rr]eporting by|[Ww]ords by|[Vv]on|[Pp]ar|[Pp]or)\s+"
    rf"(?P<names>{NAME}(?:\s*(?:,|\band\b|&|\bet\b|\bund\b|\by\b)\s*{NAME})*)"
    r"(?:\s*[|,–—-]\s*[\w .'’&-]{1,40})?$"
)


def byline_author(line: str) -> str | None:
    """The author names of a "By Jane Doe" line, or None."""
    match = BYLINE.match(line.strip())
    return match["names"].strip() if match else None
