namespace MemWatch.Probes.Allocators.Models;

/// <summary>
/// glibc's <c>_dl_strtoul</c> (elf/dl-misc.c), which reads every tunable and legacy MALLOC_* value in 2.36: skips blanks,
/// takes an optional sign, then 0x-hex, 0-octal or decimal digits, stops at the first other character, saturates at
/// 2^64−1 and negates in unsigned arithmetic. No digits read as 0. glibc 2.36 does not check what follows the number.
/// </summary>
internal static class DlStrtoul
{
    /// <param name="text">The value as written.</param>
    /// <param name="value">What glibc reads.</param>
    /// <param name="consumed">Characters used; less than the length means trailing text glibc ignores.</param>
    /// <returns>False when no digit was found (glibc then reads 0).</returns>
    public static bool Parse(ReadOnlySpan<char> text, out ulong value, out int consumed)
    {
        int i = 0;
        while (i < text.Length && (text[i] == ' ' || text[i] == '\t'))
        {
            i++;
        }

        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
        {
            negative = text[i] == '-';
            i++;
        }

        value = 0;
        consumed = 0;
        if (i >= text.Length || text[i] < '0' || text[i] > '9')
        {
            return false;
        }

        uint radix = 10;
        if (text[i] == '0')
        {
            if (i + 1 < text.Length && (text[i + 1] == 'x' || text[i + 1] == 'X'))
            {
                radix = 16;
                i += 2;
            }
            else
            {
                radix = 8;
            }
        }

        ulong result = 0;
        for (; i < text.Length; i++)
        {
            int digit = DigitValue(text[i]);
            if (digit < 0 || digit >= radix)
            {
                break;
            }

            if (result > (ulong.MaxValue - (ulong)digit) / radix)
            {
                value = ulong.MaxValue;
                consumed = i;
                return true;
            }

            result = result * radix + (ulong)digit;
        }

        value = negative ? unchecked(0 - result) : result;
        consumed = i;
        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
