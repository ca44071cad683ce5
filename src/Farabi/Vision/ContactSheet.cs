namespace Farabi.Vision;

/// <summary>Lays images out on a grid, for a quick look at a data set in one PNG.</summary>
public static class ContactSheet
{
    /// <summary>
    /// A grid of <paramref name="columns"/> columns; each cell is as large as the largest image, images
    /// sit at the cells' top-left corners, separated by <paramref name="gap"/> pixels of <paramref name="background"/>.
    /// </summary>
    public static RgbImage Build(IReadOnlyList<RgbImage> images, int columns = 16, int gap = 2, Rgb? background = null)
    {
        if (images.Count == 0) throw new ArgumentException("a contact sheet needs at least one image.");
        if (columns <= 0 || gap < 0) throw new ArgumentException($"a contact sheet needs columns > 0 and gap >= 0, not {columns} and {gap}.");
        columns = Math.Min(columns, images.Count);
        var rows = (images.Count + columns - 1) / columns;
        int cw = images.Max(i => i.Width), ch = images.Max(i => i.Height);
        var sheet = RgbImage.Filled(gap + columns * (cw + gap), gap + rows * (ch + gap), background ?? new Rgb(255, 255, 255));
        for (var k = 0; k < images.Count; k++)
        {
            var img = images[k];
            int left = gap + (k % columns) * (cw + gap), top = gap + (k / columns) * (ch + gap);
            for (var y = 0; y < img.Height; y++)
                Array.Copy(img.Pixels, y * img.Width * 3, sheet.Pixels, ((top + y) * sheet.Width + left) * 3, img.Width * 3);
        }
        return sheet;
    }
}
