namespace Farabi.Data;

/// <summary>
/// A built-in two-class text task that needs no download: short "reviews" mixing positive, negative and
/// neutral words, labelled 1 when positive words outnumber negative ones, else 0. Classifying it needs the
/// model to count words across the sequence, so the last token's hidden state must gather the whole text.
/// </summary>
public static class SyntheticSentiment
{
    static readonly string[] Positive = ["good", "great", "fine", "happy", "lovely", "superb", "nice", "bright", "warm", "brilliant"];
    static readonly string[] Negative = ["bad", "awful", "sad", "poor", "dull", "boring", "weak", "grim", "cold", "terrible"];
    static readonly string[] Neutral = ["the", "film", "plot", "was", "and", "actor", "story", "a", "very", "but", "music", "ending", "quite", "scene"];

    /// <summary>Draws <paramref name="count"/> labelled texts, balanced between the classes, fixed by <paramref name="seed"/>.</summary>
    public static IReadOnlyList<(string Text, int Label)> Generate(int count, int seed = 1337)
    {
        var random = new Random(seed);
        var result = new List<(string, int)>(count);
        for (var i = 0; i < count; i++)
        {
            var label = i % 2;
            var majority = 1 + random.Next(3);
            var minority = random.Next(majority);
            var words = new List<string>();
            for (var k = 0; k < majority; k++) words.Add((label == 1 ? Positive : Negative)[random.Next(Positive.Length)]);
            for (var k = 0; k < minority; k++) words.Add((label == 1 ? Negative : Positive)[random.Next(Negative.Length)]);
            for (var k = 2 + random.Next(5); k > 0; k--) words.Add(Neutral[random.Next(Neutral.Length)]);
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(words));
            result.Add((string.Join(' ', words), label));
        }
        return result;
    }

    /// <summary>
    /// The task's rule applied to any text: 1 when it has more positive than negative words, 0 when fewer, null on a
    /// tie (no class). It is the ground truth for texts a model wrote in the task's style.
    /// </summary>
    public static int? RuleLabel(string text)
    {
        int positive = 0, negative = 0;
        foreach (var word in text.Split([' ', '\t', '\n', '\r', '.', ',', '!', '?', ';', ':'], StringSplitOptions.RemoveEmptyEntries))
        {
            var w = word.ToLowerInvariant();
            if (Array.IndexOf(Positive, w) >= 0) positive++;
            else if (Array.IndexOf(Negative, w) >= 0) negative++;
        }
        return positive == negative ? null : positive > negative ? 1 : 0;
    }

    /// <summary>UTF-8 bytes shifted by one, so id 0 is free for padding (a 257-token vocabulary).</summary>
    public static int[] ByteIds(string text) => System.Text.Encoding.UTF8.GetBytes(text).Select(b => b + 1).ToArray();

    /// <summary>The vocabulary <see cref="ByteIds"/> needs: 256 bytes and the pad id 0.</summary>
    public const int ByteVocabSize = 257;
}
