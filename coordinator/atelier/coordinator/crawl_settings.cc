#include "atelier/coordinator/crawl_settings.h"

#include <algorithm>
#include <variant>

#include "atelier/spec/resize_mode_proto.h"

namespace atelier::coordinator {

v1::CrawlSettings CrawlSettingsFromSpec(const JobSpec& spec) {
  v1::CrawlSettings s;
  const CrawlSpec& c = spec.crawl;
  s.set_resize_mode(ResizeModeToProto(c.resize_mode));
  s.set_resize_size(c.resize_size);
  s.set_jpeg_quality(c.jpeg_quality);
  s.set_per_host_concurrency(c.per_host_concurrency);
  s.set_per_host_requests_per_second(c.per_host_requests_per_second);
  s.set_retries(c.retries);
  s.set_timeout_ms(static_cast<int32_t>(c.timeout_s * 1000));
  s.set_max_bytes(c.max_bytes);
  const auto ttl_ms = static_cast<int32_t>(c.lease_ttl_s * 1000);
  s.set_lease_ttl_ms(ttl_ms);
  s.set_heartbeat_interval_ms(std::max(100, ttl_ms / 4));
  s.set_dataset_root(spec.dataset);
  s.set_throttle_pause_ms(static_cast<int32_t>(c.throttle_pause_s * 1000));
  s.set_allow_private_networks(c.allow_private_networks);
  for (const std::string& cidr : c.allowed_networks) s.add_allowed_networks(cidr);
  s.set_memory_budget_bytes(c.memory_budget_bytes);
  s.set_max_image_pixels(c.max_image_pixels);
  s.set_seal_interval_ms(static_cast<int32_t>(c.seal_interval_s * 1000));
  for (const SourceSpec& source : spec.sources) {
    if (const auto* met = std::get_if<MetSourceSpec>(&source.source)) {
      if (s.met_api().empty()) s.set_met_api(met->api);
      for (const auto& d : met->derive) {
        bool have = false;
        for (const auto& f : s.met_label_fields()) have = have || f == d;
        if (!have) s.add_met_label_fields(d);
      }
    }
  }
  return s;
}

}  // namespace atelier::coordinator
