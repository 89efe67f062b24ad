// The CrawlSettings every worker receives, derived from the job spec. Pure.
#pragma once

#include "atelier/spec/job_spec.h"
#include "atelier/v1/crawl.pb.h"

namespace atelier::coordinator {

v1::CrawlSettings CrawlSettingsFromSpec(const JobSpec& spec);

}  // namespace atelier::coordinator
