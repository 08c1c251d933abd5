//! Images from a folder with one sub-folder per class (`root/cat/1.png`, `root/dog/a.jpg`),
//! decoded by the `image` crate (PNG and JPEG), as `[channels, height, width]` arrays of
//! `f32` in `[0, 1]`.

use std::path::{Path, PathBuf};

use crate::dataset::InMemoryDataset;
use crate::error::{DataError, Position, Result};

/// Settings for reading an image folder: an optional common size (images are resized to it
/// with a triangle filter) and grey or RGB.
#[derive(Debug, Clone, Default)]
pub struct ImageFolderReader {
    size: Option<(u32, u32)>,
    grayscale: bool,
}

/// The images of a folder, in class then file-name order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageFolder {
    /// Every image's values, one after the other (`[channels, height, width]` each).
    pub images: Vec<f32>,
    /// `[channels, height, width]` of one image.
    pub shape: Vec<usize>,
    /// Each image's class, an index into `classes`.
    pub labels: Vec<usize>,
    /// The class names: the sub-folder names, sorted.
    pub classes: Vec<String>,
    /// Each image's file.
    pub paths: Vec<PathBuf>,
}

impl ImageFolder {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images and labels as a dataset (targets are class indices).
    pub fn into_dataset(self) -> Result<InMemoryDataset> {
        let targets = self.labels.iter().map(|&l| l as f32).collect();
        InMemoryDataset::new(self.images, self.shape, targets, vec![])
    }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|err| DataError::io(dir, err)))
        .collect::<Result<_>>()?;
    entries.sort();
    Ok(entries)
}

impl ImageFolderReader {
    /// RGB images kept at their own (common) size.
    pub fn new() -> Self {
        ImageFolderReader::default()
    }

    /// Resize every image to `width × height`.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    /// One grey channel instead of three RGB channels.
    pub fn grayscale(mut self, grayscale: bool) -> Self {
        self.grayscale = grayscale;
        self
    }

    /// Reads every PNG/JPEG file in the sub-folders of `root` (other files are skipped). A
    /// folder with no image, or images of different sizes without [`ImageFolderReader::size`],
    /// is an error naming the file.
    pub fn read(&self, root: impl AsRef<Path>) -> Result<ImageFolder> {
        let root = root.as_ref();
        let mut out = ImageFolder::default();
        for class_dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
            let class = out.classes.len();
            out.classes.push(
                class_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            for file in sorted_entries(&class_dir)?
                .into_iter()
                .filter(|p| is_image(p))
            {
                let bytes = std::fs::read(&file).map_err(|e| DataError::io(&file, e))?;
                let (values, shape) = self.decode(&bytes, &file)?;
                if out.shape.is_empty() {
                    out.shape = shape;
                } else if out.shape != shape {
                    return Err(DataError::format(
                        &file,
                        Position::Whole,
                        format!(
                            "an image of shape {:?} like the first (or set a common size)",
                            out.shape
                        ),
                        format!("shape {shape:?}"),
                    ));
                }
                out.images.extend(values);
                out.labels.push(class);
                out.paths.push(file);
            }
        }
        if out.is_empty() {
            return Err(DataError::format(
                root,
                Position::Whole,
                "sub-folders (one per class) holding PNG or JPEG files",
                "no image",
            ));
        }
        Ok(out)
    }

    /// Decodes one PNG or JPEG file's `bytes` (`name` is used in errors) into its values and
    /// `[channels, height, width]` shape.
    pub fn decode(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<(Vec<f32>, Vec<usize>)> {
        let mut img = image::load_from_memory(bytes).map_err(|e| {
            DataError::format(
                name.as_ref(),
                Position::Whole,
                "a PNG or JPEG image",
                e.to_string(),
            )
        })?;
        if let Some((w, h)) = self.size
            && (img.width(), img.height()) != (w, h)
        {
            img = img.resize_exact(w, h, image::imageops::FilterType::Triangle);
        }
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (channels, raw) = if self.grayscale {
            (1, img.into_luma8().into_raw())
        } else {
            (3, img.into_rgb8().into_raw())
        };
        // Interleaved HWC bytes to planar CHW values.
        let mut values = vec![0.0f32; channels * h * w];
        for (i, px) in raw.chunks_exact(channels).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                values[c * h * w + i] = f32::from(v) / 255.0;
            }
        }
        Ok((values, vec![channels, h, w]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
        bytes
    }

    #[test]
    fn decodes_to_planar_channels_in_unit_range() {
        let bytes = png(2, 1, |x, _| if x == 0 { [255, 0, 51] } else { [0, 255, 0] });
        let (v, shape) = ImageFolderReader::new().decode(&bytes, "a.png").unwrap();
        assert_eq!(shape, vec![3, 1, 2]);
        assert_eq!(v, vec![1.0, 0.0, 0.0, 1.0, 0.2, 0.0]);
        let (g, shape) = ImageFolderReader::new()
            .grayscale(true)
            .decode(&bytes, "a.png")
            .unwrap();
        assert_eq!((g.len(), shape), (2, vec![1, 1, 2]));
    }

    #[test]
    fn reads_classes_from_sub_folders_resizing_to_a_common_size() {
        let root = std::env::temp_dir().join(format!("strata-images-{}", std::process::id()));
        for (class, files) in [("cat", 2), ("dog", 1)] {
            std::fs::create_dir_all(root.join(class)).unwrap();
            for i in 0..files {
                std::fs::write(
                    root.join(class).join(format!("{i}.png")),
                    png(3 + i, 2, |_, _| [10, 20, 30]),
                )
                .unwrap();
            }
        }
        std::fs::write(root.join("dog").join("notes.txt"), "not an image").unwrap();
        let err = ImageFolderReader::new()
            .read(&root)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1.png") && err.contains("shape"), "{err}");
        let folder = ImageFolderReader::new().size(4, 4).read(&root).unwrap();
        assert_eq!(folder.classes, vec!["cat", "dog"]);
        assert_eq!(folder.labels, vec![0, 0, 1]);
        assert_eq!(folder.shape, vec![3, 4, 4]);
        let data = folder.into_dataset().unwrap();
        assert_eq!(crate::Dataset::len(&data), 3);
        std::fs::write(root.join("cat").join("2.png"), b"\x89PNG broken").unwrap();
        let err = ImageFolderReader::new()
            .size(4, 4)
            .read(&root)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2.png (whole file): expected a PNG or JPEG image"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn empty_folder_is_an_error() {
        let root = std::env::temp_dir().join(format!("strata-images-empty-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        assert!(ImageFolderReader::new().read(&root).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
