#include "atelier/cli/preview_sampler.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atelier/imaging/resize_mode.h"
#include "atelier/common/status_macros.h"
#include "atelier/dataset/sha256.h"
#include "atelier/dataset/shard_paths.h"
#include "atelier/dataset/shard_reader.h"
#include "atelier/imaging/image.h"

namespace fs = std::filesystem;

namespace atelier::cli {
namespace {

// One candidate for a class's chosen samples. Ordered by (priority, order).
struct Candidate {
  uint64_t priority = 0;
  int64_t order = 0;  // position in the stream: ties and display order
  std::shared_ptr<const PreviewImage> image;

  bool operator<(const Candidate& other) const {
    return std::tie(priority, order) < std::tie(other.priority, other.order);
  }
};

// Keeps the `capacity` smallest candidates (a max-heap) and counts every offer.
class BottomK {
 public:
  explicit BottomK(size_t capacity) : capacity_(capacity) {}

  // True when a candidate with this priority and order would be kept.
  bool WouldKeep(uint64_t priority, int64_t order) const {
    return heap_.size() < capacity_ || Candidate{priority, order, nullptr} < heap_.front();
  }
  // Counts the sample; keeps it if it is among the smallest. `image` is
  // called only then.
  template <typename MakeImage>
  void Offer(uint64_t priority, int64_t order, MakeImage&& image) {
    ++count_;
    if (!WouldKeep(priority, order)) return;
    if (heap_.size() == capacity_) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
    }
    heap_.push_back({priority, order, image()});
    std::push_heap(heap_.begin(), heap_.end());
  }
  int64_t count() const { return count_; }
  // The kept images in stream order.
  std::vector<PreviewImage> Images() const {
    std::vector<Candidate> sorted = heap_;
    std::sort(sorted.begin(), sorted.end(), [](const Candidate& a, const Candidate& b) { return a.order < b.order; });
    std::vector<PreviewImage> images;
    for (const Candidate& c : sorted) images.push_back(*c.image);
    return images;
  }

 private:
  size_t capacity_;
  int64_t count_ = 0;
  std::vector<Candidate> heap_;
};

struct HeadState {
  std::map<std::string, BottomK> classes;
  BottomK unlabeled;
};

uint64_t Priority(uint64_t seed, const std::string& key) {
  const std::string hex = dataset::Sha256Hex(absl::StrCat(seed, ":", key)).substr(0, 16);
  uint64_t value = 0;
  if (!absl::SimpleHexAtoi(hex, &value)) return 0;  // never: Sha256Hex gives hex digits
  return value;
}

absl::Status CheckOptions(const PreviewOptions& options) {
  if (options.per_class < 1) {
    return absl::InvalidArgumentError(absl::StrCat("per_class must be at least 1, not ", options.per_class));
  }
  if (options.thumbnail_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("thumbnail_size must be at least 1, not ", options.thumbnail_size));
  }
  return absl::OkStatus();
}

class Collector {
 public:
  explicit Collector(const PreviewOptions& options)
      : options_(options), capacity_(static_cast<size_t>(options.per_class)), all_(capacity_) {
    if (!options.head.empty()) heads_.emplace(options.head, HeadState{{}, BottomK(capacity_)});
  }

  void Add(const fs::path& shard, dataset::Sample& sample, PreviewData& data) {
    ++data.samples;
    auto decoded =
        imaging::DecodeAndResize(sample.image_bytes, imaging::ResizeMode::kCenterCrop, options_.thumbnail_size);
    if (decoded.ok() && (decoded->image.width != options_.thumbnail_size ||
                         decoded->image.height != options_.thumbnail_size)) {
      auto square = imaging::ResizeTo(decoded->image, options_.thumbnail_size, options_.thumbnail_size);
      if (square.ok()) {
        decoded->image = *std::move(square);
      } else {
        decoded = square.status();
      }
    }
    if (!decoded.ok()) {
      ++data.undecodable;
      if (data.undecodable_listed.size() < kMaxListedUndecodable) {
        data.undecodable_listed.push_back({shard.filename().string(), sample.meta.key,
                                           imaging::FailureReason(decoded.status()),
                                           std::string(decoded.status().message())});
      }
      return;
    }
    const int64_t order = order_++;
    const uint64_t priority = Priority(options_.seed, sample.meta.key);
    std::shared_ptr<const PreviewImage> image;  // encoded once, when first kept
    auto make_image = [&]() -> std::shared_ptr<const PreviewImage> {
      if (!image) {
        auto encoded = imaging::EncodeJpeg(decoded->image, 85);
        PreviewImage made{sample.meta.key, sample.meta.url, shard.filename().string(),
                          encoded.ok() ? *std::move(encoded) : std::string()};
        image = std::make_shared<const PreviewImage>(std::move(made));
      }
      return image;
    };

    if (options_.head.empty()) {
      // A head seen for the first time: every earlier sample had no label for
      // it, and all_ holds the smallest of those, exactly its "(no label)" state.
      for (const auto& label : sample.meta.labels) {
        if (!heads_.contains(label.first)) heads_.emplace(label.first, HeadState{{}, all_});
      }
    } else {
      for (const auto& label : sample.meta.labels) heads_seen_.insert(label.first);
    }
    for (auto& [head, state] : heads_) {
      auto label = sample.meta.labels.find(head);
      if (label == sample.meta.labels.end()) {
        state.unlabeled.Offer(priority, order, make_image);
      } else {
        auto it = state.classes.try_emplace(label->second, capacity_).first;
        it->second.Offer(priority, order, make_image);
      }
    }
    if (options_.head.empty()) all_.Offer(priority, order, make_image);
  }

  absl::Status Finish(PreviewData& data) {
    for (auto& [name, state] : heads_) {
      if (!options_.head.empty() && state.classes.empty()) {
        std::vector<std::string> seen(heads_seen_.begin(), heads_seen_.end());
        return absl::NotFoundError(absl::StrCat("no sample of ", options_.data.string(),
                                                " has a label for head '", name, "'; heads found: ",
                                                seen.empty() ? "none" : absl::StrJoin(seen, ", ")));
      }
      PreviewHead head{name, {}};
      for (const auto& [class_name, kept] : state.classes) {
        head.classes.push_back({class_name, false, kept.count(), kept.Images()});
      }
      std::stable_sort(head.classes.begin(), head.classes.end(),
                       [](const PreviewClass& a, const PreviewClass& b) { return a.count > b.count; });
      if (state.unlabeled.count() > 0) {
        head.classes.push_back({"", true, state.unlabeled.count(), state.unlabeled.Images()});
      }
      data.heads.push_back(std::move(head));
    }
    return absl::OkStatus();
  }

 private:
  const PreviewOptions& options_;
  size_t capacity_;
  BottomK all_;  // every decodable sample, while heads are still being discovered
  std::map<std::string, HeadState> heads_;
  std::set<std::string> heads_seen_;
  int64_t order_ = 0;
};

}  // namespace

absl::StatusOr<PreviewData> CollectPreview(const PreviewOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(std::vector<fs::path> shards, dataset::FindShards(options.data), _.prefix("--data"));
  PreviewData data;
  data.data = options.data.string();
  data.per_class = options.per_class;
  data.seed = options.seed;
  data.thumbnail_size = options.thumbnail_size;
  Collector collector(options);
  for (const fs::path& shard : shards) {
    data.shards.push_back(shard.string());
    dataset::ShardReaderOptions reader_options;
    reader_options.label_fields = options.label_fields;
    auto reader = dataset::ShardReader::Open(shard, reader_options);
    if (!reader.ok()) {
      data.report.NameShard(absl::StrCat(shard.string(), ": unreadable: ", reader.status().message()));
      continue;
    }
    int64_t read = 0;
    while (true) {
      auto next = (*reader)->Next();
      if (!next.ok()) {
        data.report.NameShard(
            absl::StrCat(shard.string(), ": read error after ", read, " samples: ", next.status().message()));
        break;
      }
      if (!next->has_value()) break;
      ++read;
      collector.Add(shard, **next, data);
    }
    data.report.Merge((*reader)->report());
  }
  RETURN_IF_ERROR(collector.Finish(data));
  return data;
}

}  // namespace atelier::cli
