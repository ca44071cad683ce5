using System.Text;
using Farabi.Research.ProcessSupervision;
using Xunit;

namespace Farabi.Tests.ProcessSupervision;

public sealed class Prm800kClassifierTests
{
    static Prm800kStepRating R(int? rating, string step = "step", string problem = "problem", params string[] prior) =>
        new(1, problem, prior, step, rating, false, null, false, false, null);

    [Fact]
    public void Neutral_ratings_go_where_the_option_says_and_unrated_steps_are_skipped()
    {
        Prm800kStepRating[] ratings = [R(1), R(-1), R(0), R(null)];
        Assert.Equal([true, false, true], Prm800kStepClassifier.Labelled(ratings, NeutralRating.Positive).Select(x => x.Positive));
        Assert.Equal([true, false, false], Prm800kStepClassifier.Labelled(ratings, NeutralRating.Negative).Select(x => x.Positive));
        Assert.Equal([true, false], Prm800kStepClassifier.Labelled(ratings, NeutralRating.Drop).Select(x => x.Positive));
    }

    [Fact]
    public void Input_keeps_the_problem_start_the_prefix_end_and_the_step_start()
    {
        var options = new Prm800kClassifierOptions { ProblemBytes = 4, PrefixBytes = 5, StepBytes = 3 };
        var r = R(1, step: "STEPXYZ", problem: "abcdefgh", prior: ["first", "second"]);
        var text = Encoding.UTF8.GetString(Prm800kStepClassifier.Encode(r, options).Select(b => (byte)b).ToArray());
        Assert.Equal("abcd\necond\nSTE", text); // the last 5 bytes of "first\nsecond"
        var example = Prm800kStepClassifier.Example(r, positive: false, options);
        Assert.Equal([example.Ids.Length - 1L], example.Positions);
        Assert.Equal([0f], example.Targets);
        Assert.True(example.Ids.Length <= options.MaxBytes);
    }

    [Fact]
    public void Ngram_words_split_letters_digits_and_symbols()
    {
        Assert.Equal(["so", "x", "^", "2", "=", "4", "\\", "frac"], HashedNgramClassifier.Words("So x^2 = 4 \\frac"));
    }

    [Fact]
    public void Ngram_classifier_learns_a_separating_word_and_is_deterministic()
    {
        var data = Enumerable.Range(0, 40).Select(i => R(i % 2 == 0 ? 1 : -1, step: $"value {i} " + (i % 2 == 0 ? "good" : "bad"))).ToArray();
        double[] Fit()
        {
            var c = new HashedNgramClassifier(bits: 12);
            c.Train(data.Select(r => (c.Features(r), r.Rating == 1)).ToArray(), epochs: 5, seed: 3);
            return [c.Predict(c.Features(R(1, step: "value 99 good"))), c.Predict(c.Features(R(-1, step: "value 98 bad")))];
        }
        var a = Fit();
        Assert.True(a[0] > 0.8 && a[1] < 0.2, $"good {a[0]}, bad {a[1]}");
        Assert.Equal(a, Fit());
    }
}
