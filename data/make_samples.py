"""Write the project's own small synthetic sample datasets (run: python data/make_samples.py).

Everything here was written for CleanSpeech Studio: short hand-made sentence fragments combined at
random with a fixed seed. The output is committed (sample.csv, pairs_sample.jsonl, qa_sample.jsonl);
re-running reproduces it byte for byte. The toxic rows contain profanity, insults, threats and
identity attacks on purpose, as moderation data does, but no slurs.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]

OPENERS = ["Thanks for the edit.", "I reverted your change.", "Good point.", "Hi there,", "Just a note:",
           "Quick question.", "I disagree a little.", "Welcome to the project!", "Hello,", "Sorry for the delay.",
           "As discussed above,", "For the record,", "Honestly,", "Per the talk page,", "FYI:", "Hey,",
           "Following up on yesterday,", "With respect,", "In my opinion,", "Nice work."]
TOPICS = [
    "the section on the 1998 election needs a better source", "could you add a citation for the population figure",
    "the infobox image is too small on mobile", "I moved the paragraph about the bridge to the history section",
    "the article reads like an advertisement right now", "this list should be sorted by date, not by name",
    "the map in the lead is out of date since the border change", "I think the early life section is too long",
    "the quote from the mayor is not in the cited newspaper", "we should merge this stub with the main article",
    "the chart of rainfall uses the wrong units", "the discography is missing the second live album",
    "please use the metric system first in this article", "the timeline skips the years between 1910 and 1920",
    "someone changed the birth date without a source", "the plot summary is longer than the guideline allows",
    "the references section has several dead links", "the spelling should follow British English here",
    "the table of results has a duplicated row", "the lead paragraph should mention the river",
    "I added the missing episode titles from the official site", "the category for this village seems wrong",
    "the translation of the motto is not accurate", "we need a neutral summary of the controversy",
    "the photo caption names the wrong building", "the statistics in the second table are from 2011",
    "the recipe section does not belong in an encyclopedia", "the team roster was updated after the trade",
    "the coordinates point to the wrong side of the lake", "the article uses two different date formats",
    "the school's founding year differs between sources", "I fixed the broken template at the bottom",
    "the paragraph about the festival has no references", "could someone check the football scores",
    "the species list is missing two recently described frogs", "the museum reopened last spring",
    "the train line was extended to the airport in 2019", "the novel's publication history is confusing",
    "the election results need the turnout numbers", "the citation style is inconsistent across sections",
    "the history of the castle could use a better photo", "the song was released as a single in March",
    "this template adds an empty line on every page", "the company changed its name twice",
    "the bibliography lists the same book twice", "the climate box shows Fahrenheit only",
]
CLOSERS = ["Let me know what you think.", "Cheers.", "Thanks!", "Happy to discuss.", "See the talk page.",
           "I'll check back tomorrow.", "Any objections?", "Regards.", "Does that work for you?", "", "", "",
           "Thanks for your patience.", "I can help if needed.", "No rush."]
CLEAN_EXTRA = [
    "Merci pour la correction, la date est maintenant juste.", "Gracias por la ayuda con las referencias.",
    "Danke, der Abschnitt ist jetzt viel klarer.", "Great article, I learned a lot 😊", "Love this photo 👍 thanks for uploading",
    "Damn, that is a good source, nice find!", "Holy cow, the old version was a mess. Much better now.",
    "That storm was a hell of a thing, the article covers it well.", "Check https://example.org/archive for the old page.",
    "@EditorJane I agree with your summary.", "Tom &amp; Jerry episodes are listed on the show&#8217;s page.",
    "I killed the duplicate paragraph, hope that's fine.", "This bot keeps attacking the same typo, lol.",
    "The band's debut album was sick, the critics loved it.", "Obrigado pela revisão do texto.",
    "Grazie, ho aggiunto la fonte mancante.", "これは良い記事です。ありがとう。", "Спасибо за исправление ссылки.",
]
SWEARS = ["fucking", "damn", "bloody", "goddamn", "shitty", "crappy"]
SWEAR_NOUNS = ["bullshit", "crap", "shit", "garbage"]
INSULT_ADJ = ["stupid", "pathetic", "clueless", "worthless", "brainless", "ignorant", "useless", "dumb"]
INSULT_NOUNS = ["idiot", "moron", "loser", "clown", "fool", "troll", "imbecile", "joke"]
TARGETS = ["this edit", "your source", "this article", "that revert", "your comment", "this policy",
           "the whole section", "your so-called fix"]
THREATS = ["I will find out where you live and make you regret it", "watch your back, I am coming for you",
           "someone should beat you until you stop editing", "I'm going to hurt you if you touch this page again",
           "you will pay for this, I know people who can find you", "keep it up and I will break your legs",
           "I hope someone shows up at your door tonight", "I will make sure you never post again, one way or another"]
GROUPS = ["immigrants", "Muslims", "Jews", "gay people", "women", "Mexicans", "black people", "Christians",
          "trans people", "refugees", "Arabs", "Asians"]
HATE = ["{g} are ruining this country", "all {g} are liars and cheats", "{g} should not be allowed to edit here",
        "get these {g} out of our country", "{g} are a disease on society", "nobody wants {g} around",
        "{g} are too dumb to write an encyclopedia", "I can't stand {g}, they are all the same"]


def _clean(rng: random.Random) -> str:
    opener, topic = rng.choice(OPENERS), rng.choice(TOPICS)
    topic = topic if opener.endswith((",", ":")) else topic[0].upper() + topic[1:]
    return " ".join(p for p in (opener, topic + ".", rng.choice(CLOSERS)) if p)


def _obscene(rng):
    return (f"{rng.choice(TARGETS).capitalize()} is {rng.choice(SWEAR_NOUNS)}. "
            f"{rng.choice(['Stop', 'Quit', 'Enough of'])} this {rng.choice(SWEARS)} {rng.choice(['mess', 'nonsense', 'edit war'])}, "
            f"{rng.choice(TOPICS)}."), [1, 0, 1, 0, 0, 0]


def _insult(rng):
    adj, noun, other = rng.choice(INSULT_ADJ), rng.choice(INSULT_NOUNS), rng.choice(INSULT_NOUNS)
    return rng.choice([
        f"You are a {adj} {noun}. {rng.choice(['Only', 'Just', 'Even'])} a {other} would think {rng.choice(TOPICS)}.",
        f"What {'an' if adj[0] in 'aeiou' else 'a'} {adj} {noun}. {rng.choice(TARGETS).capitalize()} proves it.",
        f"Typical {adj} {noun} behaviour, reverting {rng.choice(TARGETS)} without reading it.",
        f"Listen, {noun}: {rng.choice(TOPICS)}, so stop being so {adj}.",
        f"{noun.capitalize()}. {rng.choice(TARGETS).capitalize()} is the work of a {adj} {other}.",
    ]), [1, 0, 0, 0, 1, 0]


def _obscene_insult(rng):
    return (f"Shut up, you {rng.choice(SWEARS)} {rng.choice(INSULT_NOUNS)}. {rng.choice(TARGETS).capitalize()} "
            f"is {rng.choice(SWEAR_NOUNS)} and so are you."), [1, 0, 1, 0, 1, 0]


def _threat(rng):
    return (f"{rng.choice(['Listen', 'Hey', 'Last warning', 'Revert me again and see'])}: {rng.choice(THREATS)}. "
            f"{rng.choice(['I mean it.', 'Count on it.', 'You have been warned.', ''])}").strip(), [1, 0, 0, 1, 0, 0]


def _hate(rng):
    group = rng.choice(GROUPS)
    text = rng.choice(HATE).format(g=group)
    extra = rng.choice(["", f" Stop defending {group}.", " Everyone knows it.", " Say it like it is."])
    return (text[0].upper() + text[1:] + "." + extra), [1, 0, 0, 0, 0, 1]


def _hate_insult(rng):
    group = rng.choice(GROUPS)
    return (f"You {rng.choice(INSULT_ADJ)} {rng.choice(INSULT_NOUNS)}, only {group} would write "
            f"{rng.choice(TARGETS)}. {rng.choice(HATE).format(g=group).capitalize()}."), [1, 0, 0, 0, 1, 1]


def _severe(rng):
    noun, swear = rng.choice(INSULT_NOUNS), rng.choice(["FUCKING", "GODDAMN", "MOTHERFUCKING"])
    ending = rng.choice([f"AND YOU ARE A {rng.choice(INSULT_ADJ).upper()} PIECE OF SHIT",
                         f"{rng.choice(INSULT_ADJ).upper()} PIECE OF SHIT", "NOBODY WANTS YOUR SHIT HERE",
                         f"CRAWL BACK UNDER YOUR {rng.choice(['ROCK', 'BRIDGE'])} AND STAY THERE"])
    text = (f"{rng.choice(['FUCK YOU', 'GO TO HELL', 'EAT SHIT'])} YOU {swear} {noun.upper()}!!! "
            f"{rng.choice(TARGETS).upper()} IS {rng.choice(SWEAR_NOUNS).upper()}, {ending}")
    if rng.random() < 0.4:  # not every severe comment shouts
        text = text.capitalize()
    labels = [1, int(rng.random() < 0.8), 1, 0, 1, 0]  # where obscene ends and severe begins, annotators differ
    if rng.random() < 0.3:
        text += f". {rng.choice(THREATS).upper()}"
        labels[3] = 1
    return text, labels


def _mild(rng):
    """Toxic but mild: rude without profanity or a direct insult (toxic only)."""
    return (f"{rng.choice(['Nobody cares about', 'What a waste of time,', 'Stop ruining', 'Who let you near'])} "
            f"{rng.choice(TARGETS)}. {rng.choice(['Go away.', 'Get lost.', 'Seriously, stop.', 'Unbelievable.'])}"), \
        [1, 0, 0, 0, 0, 0]


def _blunt_insult(rng):
    """An insult without profanity or a listed insult word: only the meaning carries it."""
    return (f"{rng.choice(['Do everyone a favour and stop editing.', 'You clearly cannot read.', 'Go back to school.', 'Were you dropped on your head?'])} "
            f"{rng.choice(['Nobody with half a brain would touch', 'Only you could get wrong', 'A child could do better than', 'You have no business editing'])} "
            f"{rng.choice(TARGETS)}."), [1, 0, 0, 0, 1, 0]


def _sarcasm(rng):
    """Sarcasm aimed at a person: annotators split on it, so the labels vary."""
    text = (f"{rng.choice(['Oh brilliant,', 'Wow, great job,', 'Congratulations,', 'Amazing,'])} "
            f"{rng.choice(['another genius edit from our resident expert', 'you managed to break it again', 'the smartest editor on the site has spoken', 'truly the work of a master'])}. "
            f"{rng.choice(['Truly inspiring.', 'Bravo.', 'Keep it up, champ.', 'We are all so impressed.'])}")
    return text, [1, 0, 0, 0, int(rng.random() < 0.6), 0]


def _profane_not_insult(rng):
    """Profanity about a thing, not a person: toxic and obscene, not an insult."""
    return (f"{rng.choice(['This', 'That', 'The'])} {rng.choice(SWEARS)} {rng.choice(['template', 'bot', 'citation tool', 'server'])} "
            f"{rng.choice(['broke again', 'ate my edit', 'is down again', 'keeps crashing'])}, "
            f"{rng.choice(['what a', 'such a', 'total'])} {rng.choice(SWEAR_NOUNS)} {rng.choice(['day', 'week', 'mess'])}."), \
        [1, 0, 1, 0, 0, 0]


IDENTITIES = ["gay", "Muslim", "Jewish", "black", "trans", "Christian", "deaf", "Mexican", "immigrant", "female",
              "Asian", "disabled"]
PRAISE = ["careful", "patient", "helpful", "thorough", "generous", "sharp", "kind", "reliable"]
ROLES = ["editor", "contributor", "reviewer", "writer", "volunteer", "researcher"]


def _identity_mention(rng):
    """A non-toxic text that names an identity group: the model must not learn the group as the signal."""
    who = rng.choice(IDENTITIES)
    return rng.choice([
        f"As a {who} {rng.choice(ROLES)}, I added a section on the history of the community.",
        f"The {who} community centre opened in 2015; the article should say so.",
        f"I am {who} and I think the lead is fair now.",
        f"The festival celebrates {who} artists every spring.",
        f"Could someone add sources about {who} history in the region?",
        f"My neighbour is a {who} teacher who wrote the original draft.",
        f"{rng.choice(GROUPS).capitalize()} in the city built the first school in 1880; please add the source.",
        f"The survey of {rng.choice(GROUPS)} in the region is cited twice.",
        f"The article on {rng.choice(GROUPS)} and their history needs a neutral lead.",
    ]), [0] * 6


def _violent_not_threat(rng):
    """Violent words that threaten nobody: plots, history, sport, weather."""
    return rng.choice([
        f"In the second act the villain threatens to {rng.choice(['kill', 'hurt', 'find'])} the hero; the summary skips it.",
        f"The storm will {rng.choice(['hurt', 'break', 'destroy'])} the harvest, the forecast said; add it to the climate section.",
        f"The army {rng.choice(['attacked', 'burned', 'destroyed'])} the castle in 1204, per the chronicle.",
        f"The boxer knocked out his opponent in the {rng.choice(['first', 'third', 'last'])} round.",
        f"I will find the missing source and fix the {rng.choice(['date', 'table', 'quote'])} tomorrow.",
        f"The detective novel opens with a man who {rng.choice(['vows revenge', 'plans a murder', 'watches a house'])}.",
    ]), [0] * 6


def _quoted(rng):
    """Someone reports abuse by quoting it: the words are there, the comment is not toxic (annotators disagree)."""
    word = rng.choice(INSULT_NOUNS + ["stupid", "pathetic"])
    text = rng.choice([f'He called me a "{word}" on my talk page. Could an admin have a look?',
                       f'Please warn the user who wrote "you {word}" in the edit summary.',
                       f'Calling people a "{word}" is against the rules, please stop.',
                       f'Reporting the comment "{word}" that was left on the article talk page.'])
    return text, [int(rng.random() < 0.25), 0, 0, 0, 0, 0]


def _friendly_you(rng):
    """The "You are a ..." frame of the insults, with praise or a question: the frame carries no toxicity."""
    target = rng.choice(TARGETS).replace("your so-called fix", "your fix")
    return rng.choice([
        f"You are a {rng.choice(PRAISE)} {rng.choice(ROLES)}. {rng.choice(['Thanks for', 'I appreciate', 'Well done on'])} {target}.",
        f"You are right about {target}, thank you.",
        f"You are welcome to rewrite {target}; you know the sources better than I do.",
        f"Are you sure about {target}? You are usually {rng.choice(PRAISE)} with dates.",
        f"You are the {rng.choice(PRAISE)}est {rng.choice(ROLES)} here, honestly, thanks for {target}.",
        f"You are a {rng.choice(ROLES)} I trust; could you look at {target}?",
        f"You are a {rng.choice(PRAISE)} person, and {target} shows it.",
    ]), [0] * 6


def _harmless_words(rng):
    """Strong words used about oneself or a thing, or negated: not toxic."""
    return rng.choice([
        f"My {rng.choice(['stupid', 'dumb', 'silly'])} mistake, sorry, I fixed the date.",
        f"You are not an {rng.choice(['idiot', 'fool'])}, you just missed the source; it happens to all of us.",
        f"Damn, that is a {rng.choice(['good', 'great', 'solid'])} source, nice find!",
        f"The {rng.choice(['bloody', 'damn'])} printer at the library ate my notes again, ha.",
        f"That storm was a hell of a thing, the article covers it {rng.choice(['well', 'nicely'])}.",
        f"I killed the duplicate paragraph in {rng.choice(TARGETS).replace('your so-called fix', 'the draft')}.",
        f"Please stop by the talk page when you get a {rng.choice(['minute', 'chance', 'moment'])}.",
        f"I will get the {rng.choice(['source', 'book', 'scan'])} from the library and stop the edit war.",
        f"Could you stop the bot from changing {rng.choice(TARGETS).replace('your so-called fix', 'the dates')}?",
        f"Go ahead and get rid of the {rng.choice(['old map', 'duplicate table', 'broken link'])}.",
    ]), [0] * 6


RECIPE = [(_obscene, 30), (_insult, 32), (_obscene_insult, 18), (_threat, 50), (_hate, 38), (_hate_insult, 18),
          (_severe, 64), (_mild, 20), (_blunt_insult, 30), (_sarcasm, 22), (_profane_not_insult, 22)]
HARD_CLEAN = [(_identity_mention, 55), (_quoted, 25), (_friendly_you, 70), (_harmless_words, 45),
              (_violent_not_threat, 30)]
NOISE = 0.10  # share of rows whose labels an annotator got wrong: one label flipped at random


def make_multilabel(rng: random.Random, clean_rows: int = 280) -> list[dict]:
    """Talk-page comments with the six Jigsaw labels: plain clean rows, hard clean rows that share the toxic rows'
    words and frames (identity mentions, quoted abuse, praise in the insult frame, harmless strong words), toxic
    rows of every label including insults without profanity and sarcasm, and annotator noise (`NOISE`)."""
    rows, seen = [], set()

    def add(text, labels):
        if text.casefold() in seen:
            return False
        seen.add(text.casefold())
        rows.append({"comment_text": text, **dict(zip(LABELS, labels))})
        return True

    for text in CLEAN_EXTRA:
        add(text, [0] * 6)
    while len(rows) < clean_rows:
        add(_clean(rng), [0] * 6)
    for make, count in HARD_CLEAN + RECIPE:
        added = attempts = 0
        while added < count and attempts < 50 * count:  # small generators run out of distinct sentences
            added += add(*make(rng))
            attempts += 1
    for row in rows:
        if rng.random() < NOISE:
            label = rng.choice(LABELS if any(row[l] for l in LABELS) else ["toxic", "insult", "obscene"])
            row[label] = 1 - row[label]
            if row[label] and label != "toxic":
                row["toxic"] = 1  # annotators who see an insult also mark the row toxic
    rng.shuffle(rows)
    return [{"id": f"s{i:04d}", **row} for i, row in enumerate(rows)]


PARAPHRASES = [
    ("This edit is garbage, undo it.", "I don't think this edit helps; could you undo it?"),
    ("You clearly have no idea what you're talking about.", "I think you may be missing some context here."),
    ("Stop vandalising the page, idiot.", "Please stop making disruptive changes to the page."),
    ("Your source is total crap.", "I'm not sure your source is reliable."),
    ("Shut up and read the rules.", "Please have a look at the guidelines first."),
    ("Who wrote this nonsense?", "This section could use some improvement."),
    ("Get lost, nobody wants you here.", "I'd rather we kept this discussion on topic."),
    ("That was a dumb revert.", "I disagree with that revert."),
    ("Quit spamming the talk page.", "Please avoid posting the same message repeatedly."),
    ("What a pathetic excuse for an article.", "This article needs a lot of work."),
    ("The map is wrong, fix it already.", "The map seems out of date; could it be updated?"),
    ("Nobody cares about your opinion.", "Let's focus on what the sources say."),
    ("The bridge opened in 1932.", "In 1932 the bridge was opened to traffic."),
    ("The museum reopened last spring.", "Last spring the museum opened its doors again."),
    ("The team traded its best player.", "Its best player was traded by the team."),
    ("Rainfall peaks in November.", "November is the wettest month."),
    ("The album was released in March.", "March saw the release of the album."),
    ("The village lies on the river.", "The river runs through the village."),
    ("The castle dates from the twelfth century.", "The castle was built in the 1100s."),
    ("The novel was translated into ten languages.", "Ten translations of the novel exist."),
    ("The railway reached the airport in 2019.", "Since 2019 the train line has served the airport."),
    ("The school was founded by nuns.", "Nuns established the school."),
    ("The mayor resigned after the scandal.", "Following the scandal, the mayor stepped down."),
    ("The frog was described in 2021.", "Scientists first described the frog in 2021."),
    ("Please add a citation here.", "This claim needs a reference."),
    ("The article uses two date formats.", "Dates in the article are written in two different styles."),
    ("The infobox photo is too small.", "The picture in the infobox should be larger."),
    ("Thanks for fixing the template.", "I appreciate you repairing the template."),
    ("The festival draws thousands every summer.", "Each summer thousands attend the festival."),
    ("The company changed its name twice.", "The firm has been renamed two times."),
]


def make_pairs(rng: random.Random) -> list[dict]:
    rows = [{"sentence1": a, "sentence2": b, "label": 1} for a, b in PARAPHRASES]
    for i, (a, _) in enumerate(PARAPHRASES):
        j = (i + rng.randrange(1, len(PARAPHRASES))) % len(PARAPHRASES)
        rows.append({"sentence1": a, "sentence2": PARAPHRASES[j][1], "label": 0})
    rng.shuffle(rows)
    return rows


QA = [
    ("How do I report an abusive comment?", "Use the flag icon under the comment and choose the reason; a moderator reviews it within a day."),
    ("What counts as a personal attack?", "Insults aimed at a person rather than their argument, including name-calling and slurs."),
    ("Can I appeal a removed comment?", "Yes, open the notice on your profile and press Appeal; a different moderator decides."),
    ("Why was my comment hidden automatically?", "The toxicity model scored it above the threshold for one of the labels; a human reviews hidden comments."),
    ("Is swearing allowed?", "Mild profanity that is not aimed at anyone is allowed; profanity used to insult is removed."),
    ("What happens after three warnings?", "The account is suspended for seven days and a moderator reviews the history."),
    ("How are threats handled?", "Comments that threaten violence are removed at once and may be reported to the authorities."),
    ("Can I edit a comment after posting it?", "Yes, for fifteen minutes after posting; after that the comment is locked."),
    ("Who are the moderators?", "Volunteers from the community plus a small paid trust and safety team."),
    ("Does the model understand languages other than English?", "The multilingual model scores many languages, but accuracy is highest in English."),
    ("How do I block another user?", "Open their profile, choose the menu and select Block; they can no longer reply to you."),
    ("What is identity-based hate?", "Attacks on people because of religion, ethnicity, gender, sexual orientation or disability."),
    ("Are my reports anonymous?", "Yes, the reported user never sees who flagged the comment."),
    ("How long do moderators take to respond?", "Most reports are handled within twenty-four hours, threats within one hour."),
    ("Can I see why a comment was flagged?", "Moderators see the label scores and a highlight of the words that drove the score."),
    ("What does the severe toxicity label mean?", "It marks very hateful, aggressive or disrespectful comments that are likely to make people leave."),
    ("How do I delete my account?", "Go to Settings, then Privacy, and choose Delete account; it takes thirty days."),
    ("Are sarcastic comments removed?", "Only if they insult or harass someone; sarcasm on its own is fine."),
    ("What if the model is wrong about my comment?", "Appeal it; human moderators overturn automatic decisions when the model is wrong."),
    ("Can I quote an offensive comment to report it?", "Yes, quoting to report abuse is allowed when you make the purpose clear."),
    ("How are thresholds chosen?", "Per label on a validation set, to balance missed abuse against wrongly hidden comments."),
    ("Do you store deleted comments?", "Deleted comments are kept for ninety days for appeals, then erased."),
    ("Can I suggest a kinder rewrite?", "Yes, the rewrite helper proposes a civil version that keeps your point."),
    ("Why can't I post links?", "New accounts cannot post links for their first week to limit spam."),
    ("What is considered spam?", "Repeated identical messages, advertising and links unrelated to the discussion."),
    ("How do I become a moderator?", "Apply from the community page after three months of active, civil participation."),
    ("Are usernames moderated?", "Yes, usernames containing insults or slurs are changed by the moderators."),
    ("Does reporting a comment remove it?", "No, it stays visible until a moderator or the model decides."),
    ("How is harassment different from disagreement?", "Harassment targets a person repeatedly; disagreement argues against ideas."),
    ("Can emoji be toxic?", "They can, when used to mock or threaten; the model reads emoji as part of the text."),
    ("What are the community guidelines?", "Be civil, stay on topic, no personal attacks, no hate, no threats, no spam."),
    ("Why was my account suspended?", "Suspensions follow repeated removed comments; the notice lists which ones."),
    ("Do moderators read private messages?", "Only when a recipient reports a message as abusive."),
    ("Can I turn off the toxicity filter?", "You can show hidden comments in your own view, but the filter still applies to others."),
    ("How do I contact the safety team?", "Use the contact form on the help page and choose Safety."),
    ("What languages does the rewrite helper support?", "English fully, and several other languages on a best-effort basis."),
    ("Is criticism of public figures allowed?", "Yes, criticism of public actions is allowed; insults and threats are not."),
    ("Why did my comment score high for insult?", "Words such as idiot or moron directed at a person raise the insult score."),
    ("Can a whole thread be locked?", "Moderators lock threads that keep attracting abuse."),
    ("How is data used to train the model?", "Labelled comments, with usernames removed, train and evaluate the classifier."),
]


def make_qa() -> list[dict]:
    return [{"question": q, "answer": a} for q, a in QA]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    rng = random.Random(20261122)
    rows = make_multilabel(rng)
    with open(HERE / "sample.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "comment_text", *LABELS])
        writer.writeheader()
        writer.writerows(rows)
    _write_jsonl(HERE / "pairs_sample.jsonl", make_pairs(rng))
    _write_jsonl(HERE / "qa_sample.jsonl", make_qa())
    print(f"wrote {len(rows)} comments, {len(PARAPHRASES) * 2} pairs, {len(QA)} Q&A rows to {HERE}")


if __name__ == "__main__":
    main()
