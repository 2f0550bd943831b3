import unittest

from bob import response


class BobTest(unittest.TestCase):
    def test_stating_something(self):
        self.assertEqual(response("Tom-ay-to, tom-aaaah-to."), "Whatever.")

    def test_shouting(self):
        self.assertEqual(response("WATCH OUT!"), "Whoa, chill out!")

    def test_asking_a_question(self):
        self.assertEqual(response("Does this cryogenic chamber make me look fat?"), "Sure.")

    def test_forceful_question(self):
        self.assertEqual(response("WHAT'S GOING ON?"), "Calm down, I know what I'm doing!")

    def test_silence(self):
        self.assertEqual(response(""), "Fine. Be that way!")

    def test_prolonged_silence(self):
        self.assertEqual(response("          "), "Fine. Be that way!")

    def test_shouting_numbers(self):
        self.assertEqual(response("1, 2, 3 GO!"), "Whoa, chill out!")

    def test_only_numbers(self):
        self.assertEqual(response("1, 2, 3"), "Whatever.")

    def test_question_with_trailing_whitespace(self):
        self.assertEqual(response("Okay if like my  spacebar  quite a bit?   "), "Sure.")
