def classify(number):
    if number < 1:
        raise ValueError("Classification is only possible for positive integers.")
    total, divisor = 0, 1
    while divisor * divisor <= number:
        if number % divisor == 0:
            total += divisor
            other = number // divisor
            if other != divisor:
                total += other
        divisor += 1
    total -= number
    if total == number:
        return "perfect"
    return "abundant" if total > number else "deficient"
