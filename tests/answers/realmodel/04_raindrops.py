def convert(number):
    sound = "".join(word for factor, word in ((3, "Pling"), (5, "Plang"), (7, "Plong")) if number % factor == 0)
    return sound or str(number)
