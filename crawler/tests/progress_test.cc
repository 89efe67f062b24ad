#include "atelier/crawler/progress.h"

#include <gtest/gtest.h>

namespace atelier::crawler {
namespace {

TEST(ProgressTest, LineShowsRatesAndCounts) {
  EXPECT_EQ(ProgressPrinter::Format("w1", 12, 1000, 340, 300, 20, 20, 45.25, 3.4e6),
            "w1 shard 000012: 340/1000 items, 45.2 items/s, ok 300 dead 20 failed 20, 3.40 MB/s");
}

}  // namespace
}  // namespace atelier::crawler
