import unittest

from atbash_cipher import decode, encode


class AtbashCipherTest(unittest.TestCase):
    def test_encode_yes(self):
        self.assertEqual(encode("yes"), "bvh")

    def test_encode_omg(self):
        self.assertEqual(encode("OMG"), "lnt")

    def test_encode_with_spaces(self):
        self.assertEqual(encode("O M G"), "lnt")

    def test_encode_in_groups_of_five(self):
        self.assertEqual(encode("mindblowingly"), "nrmwy oldrm tob")

    def test_encode_numbers_are_kept(self):
        self.assertEqual(encode("Testing,1 2 3, testing."), "gvhgr mt123 gvhgr mt")

    def test_decode_exercism(self):
        self.assertEqual(decode("vcvix rhn"), "exercism")

    def test_decode_with_numbers(self):
        self.assertEqual(decode("gvhgr mt123 gvhgr mt"), "testing123testing")
