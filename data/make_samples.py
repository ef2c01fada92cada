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
    return (f"You are a {rng.choice(INSULT_ADJ)} {rng.choice(INSULT_NOUNS)}. "
            f"{rng.choice(['Only', 'Just', 'Even'])} a {rng.choice(INSULT_NOUNS)} would think {rng.choice(TOPICS)}."), \
        [1, 0, 0, 0, 1, 0]


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
    text = (f"{rng.choice(['FUCK YOU', 'GO TO HELL', 'EAT SHIT'])} YOU {swear} {noun.upper()}!!! "
            f"{rng.choice(TARGETS).upper()} IS {rng.choice(SWEAR_NOUNS).upper()} AND YOU ARE A "
            f"{rng.choice(INSULT_ADJ).upper()} PIECE OF SHIT")
    labels = [1, 1, 1, 0, 1, 0]
    if rng.random() < 0.3:
        text += f". {rng.choice(THREATS).upper()}"
        labels[3] = 1
    return text, labels


def _mild(rng):
    """Toxic but mild: rude without profanity or a direct insult (toxic only)."""
    return (f"{rng.choice(['Nobody cares about', 'What a waste of time,', 'Stop ruining', 'Who let you near'])} "
            f"{rng.choice(TARGETS)}. {rng.choice(['Go away.', 'Get lost.', 'Seriously, stop.', 'Unbelievable.'])}"), \
        [1, 0, 0, 0, 0, 0]


RECIPE = [(_obscene, 45), (_insult, 50), (_obscene_insult, 25), (_threat, 58), (_hate, 45), (_hate_insult, 22),
          (_severe, 62), (_mild, 20)]


def make_multilabel(rng: random.Random, clean_rows: int = 450) -> list[dict]:
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
    for make, count in RECIPE:
        added = 0
        while added < count:
            added += add(*make(rng))
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
