using Farabi.Research.Clip;
using Xunit;

namespace Farabi.Tests.Clip;

public sealed class GeneralizedZeroShotTests
{
    // Classes 0 and 1 seen, 2 held out. Seen-class images are right among seen classes; the held-out images score
    // their own class second to a seen class by a margin of 0.1 and 0.3.
    static readonly float[][] SeenScores = [[0.9f, 0.2f, 0.5f], [0.1f, 0.8f, 0.6f]];
    static readonly int[] SeenLabels = [0, 1];
    static readonly float[][] UnseenScores = [[0.7f, 0.1f, 0.6f], [0.2f, 0.9f, 0.6f]];
    static readonly int[] UnseenLabels = [2, 2];
    static readonly bool[] IsSeen = [true, true, false];

    [Fact]
    public void Curve_moves_from_all_seen_to_all_held_out_through_each_images_gap()
    {
        var curve = GeneralizedZeroShot.Curve(SeenScores, SeenLabels, UnseenScores, UnseenLabels, IsSeen);
        // Gaps: seen images 0.4 and 0.2; held-out images 0.1 and 0.3 → four breakpoints plus the all-seen start.
        Assert.Equal(5, curve.Count);
        Assert.Equal((1.0, 0.0), (curve[0].SeenAccuracy, curve[0].UnseenAccuracy));
        Assert.Equal((1.0, 0.5), (curve[1].SeenAccuracy, curve[1].UnseenAccuracy)); // γ just above 0.1
        Assert.Equal((0.5, 0.5), (curve[2].SeenAccuracy, curve[2].UnseenAccuracy)); // just above 0.2
        Assert.Equal((0.5, 1.0), (curve[3].SeenAccuracy, curve[3].UnseenAccuracy)); // just above 0.3
        Assert.Equal((0.0, 1.0), (curve[4].SeenAccuracy, curve[4].UnseenAccuracy)); // just above 0.4
        Assert.Equal(2 * 1.0 * 0.5 / 1.5, curve.Max(p => p.HarmonicMean), 10);
    }

    [Fact]
    public void Area_is_one_for_a_perfect_model_and_smaller_for_a_trade_off()
    {
        var curve = GeneralizedZeroShot.Curve(SeenScores, SeenLabels, UnseenScores, UnseenLabels, IsSeen);
        // Points (unseen, seen): (0,1) (0.5,1) (0.5,0.5) (1,0.5) (1,0): area = 0.5·1 + 0.5·0.5 = 0.75.
        Assert.Equal(0.75, GeneralizedZeroShot.AreaUnderCurve(curve), 10);
        float[][] perfectUnseen = [[0.1f, 0.1f, 0.9f], [0.2f, 0.1f, 0.8f]];
        var perfect = GeneralizedZeroShot.Curve(SeenScores, SeenLabels, perfectUnseen, UnseenLabels, IsSeen);
        Assert.Equal(1.0, GeneralizedZeroShot.AreaUnderCurve(perfect), 10);
    }

    [Fact]
    public void Needs_both_kinds_of_class_and_image()
    {
        Assert.Throws<ArgumentException>(() => GeneralizedZeroShot.Curve(SeenScores, SeenLabels, [], [], IsSeen));
        Assert.Throws<ArgumentException>(() => GeneralizedZeroShot.Curve(SeenScores, SeenLabels, UnseenScores, UnseenLabels, [true, true, true]));
    }
}
