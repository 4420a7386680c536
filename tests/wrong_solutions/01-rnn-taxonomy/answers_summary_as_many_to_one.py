# replaces: answers
# fails: test_answers
# Summarising reads a sequence and writes one answer... but the answer is itself a sequence.
answers = {
    TASKS[0]: "many-to-one",
    TASKS[1]: "many-to-many aligned",
    TASKS[2]: "one-to-many",
    TASKS[3]: "many-to-many unaligned",
    TASKS[4]: "one-to-one",
    TASKS[5]: "many-to-one",
    TASKS[6]: "many-to-many aligned",
}
