#include "atelier/dataset/image_format.h"

#include <string>

#include "atelier/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_samples.h"

namespace atelier::dataset {
namespace {

using ::atelier::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DatasetImageFormatTest, ExtensionsRoundTrip) {
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp}) {
    EXPECT_EQ(ImageFormatFromExtension(ImageExtension(format)).value(), format);
  }
  EXPECT_EQ(ImageExtension(ImageFormat::kJpeg), "jpg");
  EXPECT_EQ(ImageExtension(ImageFormat::kPng), "png");
  EXPECT_EQ(ImageExtension(ImageFormat::kWebp), "webp");
}

TEST(DatasetImageFormatTest, ExtensionsAreCaseInsensitive) {
  EXPECT_EQ(ImageFormatFromExtension("JPEG").value(), ImageFormat::kJpeg);
  EXPECT_EQ(ImageFormatFromExtension("jpeg").value(), ImageFormat::kJpeg);
  EXPECT_EQ(ImageFormatFromExtension("Png").value(), ImageFormat::kPng);
  EXPECT_EQ(ImageFormatFromExtension("WebP").value(), ImageFormat::kWebp);
  for (const char* ext : {"gif", "", "json", ".jpg", "jpg "}) {
    EXPECT_THAT(ImageFormatFromExtension(ext),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown image extension")))
        << ext;
  }
}

TEST(DatasetImageFormatTest, SniffsMagicBytes) {
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp}) {
    EXPECT_EQ(SniffImageFormat(test_data::FakeImage(format, 0, 1)).value(), format);
    EXPECT_EQ(SniffImageFormat(test_data::FakeImage(format, 1000, 2)).value(), format);
  }
}

TEST(DatasetImageFormatTest, RejectsOtherBytes) {
  const std::string cases[] = {"", "GIF89a......", std::string("\xFF\xD8", 2),
                               std::string("\x89PNG\r\n\x1A", 7), std::string("RIFF\x04\0\0\0WEB", 11),
                               std::string("RIFF\x04\0\0\0WAVE", 12), "<html>blocked</html>"};
  for (const std::string& bytes : cases) {
    EXPECT_THAT(SniffImageFormat(bytes),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JPEG, PNG or WebP")))
        << bytes;
  }
}

}  // namespace
}  // namespace atelier::dataset
