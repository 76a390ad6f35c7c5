#include "sinks/labeling/labeling_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "config/schema.h"
#include "config/value_format.h"
#include "core/event_json.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "sinks/labeling/label_schema.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::labeling {

using state::Family;

struct LabelingService::Session {
  explicit Session(SessionRecord r)
      : record(std::move(r)),
        queue(QueuePolicy{record.reviews_per_item, record.assigned_users, record.lease_duration}) {}

  std::mutex mu;  // guards everything below; record is written only by load()
  SessionRecord record;
  ReviewQueue queue;
  bool deleted = false;  // set under mu when delete_session removes it; later calls get not_found
  // Items with two or more reviews (agreement is computed over them), and its cache.
  std::set<std::string> multi_reviewed;
  bool agreement_dirty = true;
  std::vector<SchemaAgreement> agreement_cache;
};

namespace {

constexpr std::string_view kSessionIdMeta = "tracefeed.labeling_session_id";
constexpr std::string_view kSessionNameMeta = "tracefeed.labeling_session";

bool allowed(const SessionRecord& r, std::string_view reviewer) {
  return r.assigned_users.empty() || std::find(r.assigned_users.begin(), r.assigned_users.end(),
                                               reviewer) != r.assigned_users.end();
}

Status check_reviewer(std::string_view reviewer, std::string_view field = "reviewer") {
  // Reviewer ids are often e-mail addresses, so '.' and '@' are fine; only emptiness, size and
  // control characters (which would corrupt keys and logs) are refused.
  if (reviewer.empty()) return Status::invalid_argument(std::string(field) + ": must not be empty");
  if (reviewer.size() > 256)
    return Status::invalid_argument(std::string(field) + ": longer than 256 characters");
  for (char c : reviewer) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::invalid_argument(std::string(field) + ": must not contain control characters");
    }
  }
  return Status::ok();
}

std::string seed_of(std::string_view session_id, std::string_view trace_id,
                    std::string_view reviewer, std::string_view schema) {
  std::string seed = "labeling";
  for (auto part : {session_id, trace_id, reviewer, schema}) {
    seed.push_back('\0');
    seed.append(part);
  }
  return seed;
}

std::string assessment_id_for(std::string_view session_id, std::string_view trace_id,
                              std::string_view reviewer, std::string_view schema) {
  return assessment_id_from(seed_of(session_id, trace_id, reviewer, schema));
}

const config::KeySpec* session_spec(std::string_view key) {
  return config::find_key_spec(std::string("labeling_sessions[].") + std::string(key));
}

}  // namespace

LabelingService::LabelingService(state::Store& store, EventSink& sink, Clock& clock,
                                 LabelingOptions options)
    : _store(store), _sink(sink), _clock(clock), _options(std::move(options)) {}

LabelingService::~LabelingService() = default;

int64_t LabelingService::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(_clock.now().time_since_epoch())
      .count();
}

Status LabelingService::write_item(std::string_view session_id, const Item& item) {
  thread_local std::string value;
  encode_item(item, value);
  state::WriteBatch batch(_store);
  batch.put(Family::labeling, item_key(session_id, item.trace_id), value);
  return _store.write(batch, {.sync = _options.sync_writes});
}

// ---------------------------------------------------------------------------------------------
// Loading

Status LabelingService::load(const std::vector<config::LabelSchema>& schemas,
                             const std::vector<config::LabelingSession>& sessions) {
  std::unique_lock lock(_mu);
  Status inner;

  // Schemas: the API's from state, then the config's (which win a name clash).
  TF_RETURN_IF_ERROR(_store.scan_prefix(
      Family::labeling, schema_prefix(), [&](std::string_view key, std::string_view value) {
        auto json = parse_json(value);
        auto schema = json.is_ok() ? label_schema_from_json(*json)
                                   : Result<config::LabelSchema>(json.status());
        if (!schema.is_ok()) {
          inner = Status::corruption("stored label schema " +
                                     std::string(key.substr(schema_prefix().size())) + ": " +
                                     schema.status().message());
          return false;
        }
        auto name = schema->name;
        _schemas[name] =
            std::make_shared<const SchemaEntry>(SchemaEntry{std::move(schema).value(), false});
        return true;
      }));
  TF_RETURN_IF_ERROR(inner);
  state::WriteBatch batch(_store);
  for (const auto& s : schemas) {
    TF_RETURN_IF_ERROR(validate_label_schema(s).with_context("label_schemas[" + s.name + "]"));
    if (auto it = _schemas.find(s.name); it != _schemas.end() && !it->second->from_config) {
      spdlog::warn(
          "labeling: label schema {} is now defined in the config file; the one created through "
          "the API is "
          "replaced",
          s.name);
      batch.erase(Family::labeling, schema_key(s.name));
    }
    _schemas[s.name] = std::make_shared<const SchemaEntry>(SchemaEntry{s, true});
  }

  // Sessions: stored ones, reconciled with the config by name.
  std::map<std::string, SessionRecord> stored;  // by name
  TF_RETURN_IF_ERROR(_store.scan_prefix(Family::labeling, session_prefix(),
                                        [&](std::string_view, std::string_view value) {
                                          auto r = decode_session(value);
                                          if (!r.is_ok()) {
                                            inner = r.status();
                                            return false;
                                          }
                                          stored[r->name] = std::move(r).value();
                                          return true;
                                        }));
  TF_RETURN_IF_ERROR(inner);
  std::string encoded;
  const int64_t now = now_ms();
  for (const auto& c : sessions) {
    SessionRecord r;
    auto it = stored.find(c.name);
    if (it != stored.end()) {
      r = it->second;
    } else {
      r.id = new_event_id();
      r.mlflow_run_id = derived_hex32("mlflow-run:" + r.id);
      r.name = c.name;
      r.create_time_ms = now;
    }
    r.label_schemas = c.label_schemas;
    r.assigned_users = c.assigned_users;
    r.reviews_per_item = c.reviews_per_item;
    r.lease_duration = c.lease_duration;
    r.from_config = true;
    if (it == stored.end() || r != it->second) {
      encode_session(r, encoded);
      batch.put(Family::labeling, session_key(r.id), encoded);
    }
    stored[c.name] = std::move(r);
  }
  for (auto& [name, r] : stored) {
    const bool in_config = std::any_of(sessions.begin(), sessions.end(),
                                       [&](const auto& c) { return c.name == name; });
    if (r.from_config && !in_config) {
      spdlog::warn(
          "labeling: session {} is no longer in the config file; it keeps its items and can now be "
          "deleted "
          "through the API",
          name);
      r.from_config = false;
      encode_session(r, encoded);
      batch.put(Family::labeling, session_key(r.id), encoded);
    }
    for (const auto& schema : r.label_schemas) {
      if (!_schemas.count(schema)) {
        spdlog::warn(
            "labeling: session {} uses label schema {}, which no longer exists; answers to it are "
            "refused",
            name, schema);
      }
    }
    auto session = std::make_shared<Session>(r);
    _session_ids[name] = r.id;
    _sessions[r.id] = std::move(session);
  }
  if (!batch.empty()) TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));

  // Items, in one scan of the family's item range.
  size_t items = 0, dropped = 0;
  TF_RETURN_IF_ERROR(_store.scan_prefix(
      Family::labeling, all_items_prefix(), [&](std::string_view key, std::string_view value) {
        const std::string_view rest = key.substr(all_items_prefix().size());
        const std::string_view session_id = rest.substr(0, rest.find('\0'));
        auto s = _sessions.find(session_id);
        if (s == _sessions.end()) {
          // Left over from a deletion interrupted by a crash (the session record goes first).
          batch.erase(Family::labeling, key);
          ++dropped;
          return true;
        }
        auto item = decode_item(value);
        if (!item.is_ok()) {
          inner = item.status().with_context("session " + std::string(session_id));
          return false;
        }
        if (item->reviews.size() >= 2) s->second->multi_reviewed.insert(item->trace_id);
        s->second->queue.put(std::move(item).value());
        ++items;
        return true;
      }));
  TF_RETURN_IF_ERROR(inner);
  if (!batch.empty()) TF_RETURN_IF_ERROR(_store.write(batch));

  // Orphans: count them, and adopt those whose session exists now.
  {
    std::lock_guard orphan_lock(_orphan_mu);
    TF_RETURN_IF_ERROR(_store.scan_prefix(
        Family::labeling, all_orphans_prefix(), [&](std::string_view key, std::string_view) {
          const std::string_view rest = key.substr(all_orphans_prefix().size());
          ++_orphans[std::string(rest.substr(0, rest.find('\0')))];
          return true;
        }));
  }
  for (auto& [id, session] : _sessions) {
    std::lock_guard session_lock(session->mu);
    TF_RETURN_IF_ERROR(adopt_orphans_locked(*session, nullptr, nullptr));
  }
  spdlog::info("labeling: {} label schemas, {} sessions, {} items{}", _schemas.size(),
               _sessions.size(), items,
               dropped ? ", " + std::to_string(dropped) + " items of deleted sessions dropped"
                       : std::string());
  return Status::ok();
}

// Moves the routed items waiting for this session's name into it. With `batch`, the changes are
// added to it and the adopted items returned in `adopted` for the caller to put() once the batch
// is written; without, they are written and applied here. Caller holds _mu exclusively (or is
// load()) and s.mu.
Status LabelingService::adopt_orphans_locked(Session& s, state::WriteBatch* batch,
                                             std::vector<Item>* adopted) {
  {
    std::lock_guard orphan_lock(_orphan_mu);
    auto it = _orphans.find(s.record.name);
    if (it == _orphans.end() || it->second == 0) return Status::ok();
  }
  std::optional<state::WriteBatch> own;
  if (!batch) batch = &own.emplace(_store);
  std::vector<Item> items;
  std::set<std::string> seen;
  const int64_t now = now_ms();
  uint64_t seq = s.queue.next_seq();
  std::string encoded;
  TF_RETURN_IF_ERROR(_store.scan_prefix(
      Family::labeling, orphan_prefix(s.record.name),
      [&](std::string_view key, std::string_view value) {
        batch->erase(Family::labeling, key);
        auto routed = parse_routed_item(value);
        if (!routed.is_ok()) {
          spdlog::warn("labeling: dropping an unreadable orphaned item of {}: {}", s.record.name,
                       routed.status().message());
          return true;
        }
        if (s.queue.find(routed->trace_id) || !seen.insert(routed->trace_id).second) return true;
        Item item;
        item.trace_id = routed->trace_id;
        item.seq = seq++;
        item.priority = routed->priority;
        item.rule = routed->rule;
        item.source = ItemSource::routed;
        item.added_ms = routed->time_ns != 0 ? routed->time_ns / 1'000'000 : now;
        encode_item(item, encoded);
        batch->put(Family::labeling, item_key(s.record.id, item.trace_id), encoded);
        items.push_back(std::move(item));
        return true;
      }));
  const uint64_t n = items.size();
  if (own) {
    TF_RETURN_IF_ERROR(_store.write(*own, {.sync = true}));
    for (auto& item : items) s.queue.put(std::move(item));
  } else {
    *adopted = std::move(items);
  }
  {
    std::lock_guard orphan_lock(_orphan_mu);
    _orphans.erase(s.record.name);
  }
  _stats.orphans_adopted += n;
  if (n)
    spdlog::info("labeling: session {} took {} routed items that were waiting for it",
                 s.record.name, n);
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Schemas

Status LabelingService::put_schema(config::LabelSchema schema, bool overwrite) {
  TF_RETURN_IF_ERROR(validate_label_schema(schema));
  std::unique_lock lock(_mu);
  if (auto it = _schemas.find(schema.name); it != _schemas.end()) {
    if (it->second->from_config) {
      return Status::already_exists("label schema " + schema.name +
                                    " is defined in the config file; change it there");
    }
    if (!overwrite) {
      return Status::already_exists("label schema " + schema.name +
                                    " exists; send \"overwrite\": true to replace it");
    }
  }
  std::string json;
  JsonWriter w(json);
  write_label_schema_json(w, schema);
  state::WriteBatch batch(_store);
  batch.put(Family::labeling, schema_key(schema.name), json);
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  auto name = schema.name;
  _schemas[name] = std::make_shared<const SchemaEntry>(SchemaEntry{std::move(schema), false});
  // Agreement depends on the schema's input type.
  for (auto& [id, s] : _sessions) {
    std::lock_guard session_lock(s->mu);
    s->agreement_dirty = true;
  }
  return Status::ok();
}

std::optional<SchemaEntry> LabelingService::get_schema(std::string_view name) const {
  std::shared_lock lock(_mu);
  auto it = _schemas.find(name);
  if (it == _schemas.end()) return std::nullopt;
  return *it->second;
}

std::vector<SchemaEntry> LabelingService::list_schemas() const {
  std::shared_lock lock(_mu);
  std::vector<SchemaEntry> out;
  out.reserve(_schemas.size());
  for (const auto& [name, entry] : _schemas) out.push_back(*entry);
  return out;
}

Status LabelingService::delete_schema(std::string_view name) {
  std::unique_lock lock(_mu);
  auto it = _schemas.find(name);
  if (it == _schemas.end())
    return Status::not_found("label schema " + std::string(name) + " not found");
  if (it->second->from_config) {
    return Status::conflict("label schema " + std::string(name) +
                            " is defined in the config file; remove it there");
  }
  for (const auto& [id, s] : _sessions) {
    const auto& used = s->record.label_schemas;
    if (std::find(used.begin(), used.end(), name) != used.end()) {
      return Status::conflict("label schema " + std::string(name) +
                              " is used by labeling session " + s->record.name +
                              "; delete the session first");
    }
  }
  state::WriteBatch batch(_store);
  batch.erase(Family::labeling, schema_key(name));
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  _schemas.erase(it);
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Sessions

LabelingService::SessionPtr LabelingService::find_session_locked(std::string_view ref) const {
  if (auto it = _sessions.find(ref); it != _sessions.end()) return it->second;
  if (auto it = _session_ids.find(ref); it != _session_ids.end()) return _sessions.at(it->second);
  return nullptr;
}

Result<LabelingService::SessionPtr> LabelingService::resolve(std::string_view ref) const {
  std::shared_lock lock(_mu);
  SessionPtr s = find_session_locked(ref);
  if (!s) return Status::not_found("labeling session " + std::string(ref) + " not found");
  return s;
}

Status LabelingService::validate_session_spec(const SessionRecord& spec) {
  if (std::string why = config::check_name(spec.name); !why.empty())
    return Status::invalid_argument("name: " + why);
  const config::KeySpec* schemas = session_spec("label_schemas");
  if (spec.label_schemas.size() < std::max<size_t>(1, schemas ? schemas->min_items : 1) ||
      (schemas && spec.label_schemas.size() > schemas->max_items)) {
    return Status::invalid_argument(
        "label_schemas: expected 1 to " + std::to_string(schemas ? schemas->max_items : 100) +
        " schema names, got " + std::to_string(spec.label_schemas.size()));
  }
  for (size_t i = 0; i < spec.label_schemas.size(); ++i) {
    const auto& n = spec.label_schemas[i];
    if (std::find(spec.label_schemas.begin(),
                  spec.label_schemas.begin() + static_cast<std::ptrdiff_t>(i),
                  n) != spec.label_schemas.begin() + static_cast<std::ptrdiff_t>(i)) {
      return Status::invalid_argument("label_schemas[" + std::to_string(i) + "]: duplicate " + n);
    }
  }
  for (size_t i = 0; i < spec.assigned_users.size(); ++i) {
    const std::string field = "assigned_users[" + std::to_string(i) + "]";
    TF_RETURN_IF_ERROR(check_reviewer(spec.assigned_users[i], field));
    if (std::count(spec.assigned_users.begin(), spec.assigned_users.end(), spec.assigned_users[i]) >
        1) {
      return Status::invalid_argument(field + ": duplicate " + spec.assigned_users[i]);
    }
  }
  const config::KeySpec* rpi = session_spec("reviews_per_item");
  const double lo = rpi && rpi->min ? *rpi->min : 1, hi = rpi && rpi->max ? *rpi->max : 100;
  if (spec.reviews_per_item < lo || spec.reviews_per_item > hi) {
    return Status::invalid_argument(
        "reviews_per_item: expected " + std::to_string(static_cast<int>(lo)) + " to " +
        std::to_string(static_cast<int>(hi)) + ", got " + std::to_string(spec.reviews_per_item));
  }
  const config::KeySpec* lease = session_spec("lease_duration");
  const double lmin = lease && lease->min ? *lease->min : 10'000,
               lmax = lease && lease->max ? *lease->max : 86'400'000;
  if (spec.lease_duration.count() < lmin || spec.lease_duration.count() > lmax) {
    return Status::invalid_argument(
        "lease_duration: expected " +
        config::format_duration(std::chrono::milliseconds(static_cast<int64_t>(lmin))) + " to " +
        config::format_duration(std::chrono::milliseconds(static_cast<int64_t>(lmax))) + ", got " +
        config::format_duration(spec.lease_duration));
  }
  if (spec.experiment_id.empty() || spec.experiment_id.size() > 256) {
    return Status::invalid_argument(
        "experiment_id: expected a non-empty id of at most 256 characters");
  }
  return Status::ok();
}

Result<SessionView> LabelingService::create_session(SessionRecord spec) {
  TF_RETURN_IF_ERROR(validate_session_spec(spec));
  std::unique_lock lock(_mu);
  if (_session_ids.count(spec.name)) {
    return Status::already_exists("labeling session " + spec.name + " exists");
  }
  for (size_t i = 0; i < spec.label_schemas.size(); ++i) {
    if (!_schemas.count(spec.label_schemas[i])) {
      return Status::invalid_argument("label_schemas[" + std::to_string(i) + "]: label schema " +
                                      spec.label_schemas[i] + " does not exist");
    }
  }
  spec.id = new_event_id();
  spec.mlflow_run_id = derived_hex32("mlflow-run:" + spec.id);
  spec.create_time_ms = now_ms();
  spec.from_config = false;
  auto session = std::make_shared<Session>(spec);
  std::lock_guard session_lock(session->mu);
  // The session record and the routed items that waited for it land in one write.
  state::WriteBatch batch(_store);
  std::string encoded;
  encode_session(spec, encoded);
  batch.put(Family::labeling, session_key(spec.id), encoded);
  std::vector<Item> adopted;
  TF_RETURN_IF_ERROR(adopt_orphans_locked(*session, &batch, &adopted));
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  for (auto& item : adopted) session->queue.put(std::move(item));
  _session_ids[spec.name] = spec.id;
  _sessions[spec.id] = session;
  return view_locked(*session, now_ms());
}

Result<SessionView> LabelingService::get_session(std::string_view ref) const {
  std::shared_lock lock(_mu);
  SessionPtr s = find_session_locked(ref);
  if (!s) return Status::not_found("labeling session " + std::string(ref) + " not found");
  std::lock_guard session_lock(s->mu);
  return view_locked(*s, now_ms());
}

std::vector<SessionView> LabelingService::list_sessions() const {
  std::shared_lock lock(_mu);
  std::vector<SessionView> out;
  out.reserve(_sessions.size());
  for (const auto& [name, id] : _session_ids) {
    const SessionPtr& s = _sessions.at(id);
    std::lock_guard session_lock(s->mu);
    out.push_back(view_locked(*s, now_ms()));
  }
  return out;
}

SessionView LabelingService::view_locked(Session& s, int64_t now) const {
  const size_t expired = s.queue.expire_leases(now);
  _stats.leases_expired += expired;
  SessionView v;
  v.record = s.record;
  std::string base = _options.review_app_base_url ? _options.review_app_base_url() : std::string();
  while (!base.empty() && base.back() == '/') base.pop_back();
  v.url = base + "/#/review/" + s.record.id;
  v.counts = s.queue.counts();
  v.reviewers = s.queue.reviewer_progress();
  v.agreement = agreement_locked(s);
  return v;
}

std::vector<SchemaAgreement> LabelingService::agreement_locked(Session& s) const {
  if (!s.agreement_dirty) return s.agreement_cache;
  std::vector<SchemaAgreement> out;
  for (const auto& name : s.record.label_schemas) {
    auto def = _schemas.find(name);
    if (def == _schemas.end() || !supports_agreement(def->second->schema)) continue;
    std::vector<Ratings> items;
    for (const auto& trace_id : s.multi_reviewed) {
      const Item* item = s.queue.find(trace_id);
      if (!item) continue;
      Ratings ratings;
      for (const auto& review : item->reviews) {
        for (const auto& [schema, value] : review.labels) {
          if (schema == name) ratings.emplace_back(review.reviewer, value);
        }
      }
      if (ratings.size() >= 2) items.push_back(std::move(ratings));
    }
    if (auto a = compute_agreement(items)) out.push_back({name, *a});
  }
  s.agreement_cache = out;
  s.agreement_dirty = false;
  return out;
}

Status LabelingService::delete_session(std::string_view ref) {
  std::unique_lock lock(_mu);
  SessionPtr s = find_session_locked(ref);
  if (!s) return Status::not_found("labeling session " + std::string(ref) + " not found");
  std::lock_guard session_lock(s->mu);
  if (s->record.from_config) {
    return Status::conflict("labeling session " + s->record.name +
                            " is defined in the config file; remove it there");
  }
  std::vector<std::string> keys;
  keys.reserve(s->queue.size());
  s->queue.for_each(0, [&](const Item& item) {
    keys.push_back(item_key(s->record.id, item.trace_id));
    return true;
  });
  // The record goes first: if a later chunk fails (or the process dies), load() drops the items
  // of a session that no longer exists.
  state::WriteBatch batch(_store);
  batch.erase(Family::labeling, session_key(s->record.id));
  const size_t chunk = std::max<size_t>(1, _options.delete_batch_items);
  size_t i = 0;
  for (; i < keys.size() && i < chunk; ++i) batch.erase(Family::labeling, keys[i]);
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = true}));
  s->deleted = true;
  _session_ids.erase(s->record.name);
  _sessions.erase(s->record.id);
  while (i < keys.size()) {
    for (size_t n = 0; i < keys.size() && n < chunk; ++i, ++n)
      batch.erase(Family::labeling, keys[i]);
    if (Status st = _store.write(batch); !st.is_ok()) {
      spdlog::warn(
          "labeling: session {} deleted, but erasing its items failed ({}); they are dropped at "
          "the next start",
          s->record.name, st.to_string());
      break;
    }
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Items

Result<AddResult> LabelingService::add_traces(Session& s,
                                              const std::vector<std::string>& trace_ids) {
  AddResult out;
  std::vector<Item> items;
  std::set<std::string_view> seen;
  uint64_t seq = s.queue.next_seq();
  const int64_t now = now_ms();
  state::WriteBatch batch(_store);
  std::string encoded;
  for (const auto& id : trace_ids) {
    if (s.queue.find(id) || !seen.insert(id).second) {
      ++out.already_present;
      continue;
    }
    Item item;
    item.trace_id = id;
    item.seq = seq++;
    item.source = ItemSource::api;
    item.added_ms = now;
    encode_item(item, encoded);
    batch.put(Family::labeling, item_key(s.record.id, id), encoded);
    items.push_back(std::move(item));
  }
  if (!items.empty()) TF_RETURN_IF_ERROR(_store.write(batch, {.sync = _options.sync_writes}));
  out.added = items.size();
  for (auto& item : items) s.queue.put(std::move(item));
  _stats.items_added += out.added;
  _stats.duplicates += out.already_present;
  return out;
}

Result<AddResult> LabelingService::add_items(std::string_view ref,
                                             const std::vector<std::string>& trace_ids) {
  if (trace_ids.size() > _options.max_items_per_request) {
    return Status::invalid_argument("trace_ids: at most " +
                                    std::to_string(_options.max_items_per_request) +
                                    " per request, got " + std::to_string(trace_ids.size()));
  }
  for (size_t i = 0; i < trace_ids.size(); ++i) {
    if (!is_trace_id(trace_ids[i])) {
      return Status::invalid_argument("trace_ids[" + std::to_string(i) +
                                      "]: expected \"tr-\" + 32 lowercase hex");
    }
  }
  TF_ASSIGN_OR_RETURN(SessionPtr s, resolve(ref));
  std::lock_guard lock(s->mu);
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
  return add_traces(*s, trace_ids);
}

Result<AddResult> LabelingService::add_items_matching(std::string_view ref,
                                                      std::string_view filter) {
  if (!_options.search)
    return Status::unavailable("filter: trace search is not available in this role");
  TF_ASSIGN_OR_RETURN(SessionPtr s, resolve(ref));
  auto found = _options.search(filter, _options.max_items_per_request + 1);
  if (!found.is_ok()) {
    const Status& st = found.status();
    return st.code() == ErrorCode::invalid_argument ? st.with_context("filter") : st;
  }
  if (found->size() > _options.max_items_per_request) {
    return Status::invalid_argument("filter: matches more than " +
                                    std::to_string(_options.max_items_per_request) +
                                    " traces; narrow it (e.g. with trace.timestamp_ms)");
  }
  std::lock_guard lock(s->mu);
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
  return add_traces(*s, *found);
}

Result<ItemPage> LabelingService::list_items(std::string_view ref, std::optional<ItemStatus> status,
                                             uint64_t from, size_t max_results) const {
  TF_ASSIGN_OR_RETURN(SessionPtr s, resolve(ref));
  std::lock_guard lock(s->mu);
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
  const size_t expired = s->queue.expire_leases(now_ms());
  _stats.leases_expired += expired;
  ItemPage page;
  s->queue.for_each(from, [&](const Item& item) {
    const ItemStatus st = s->queue.status(item);
    if (status && st != *status) return true;
    if (page.items.size() == max_results) {
      page.next_seq = item.seq;
      return false;
    }
    page.items.emplace_back(item, st);
    return true;
  });
  return page;
}

// ---------------------------------------------------------------------------------------------
// Review

Result<std::optional<ClaimResult>> LabelingService::claim(std::string_view ref,
                                                          std::string_view reviewer) {
  TF_RETURN_IF_ERROR(check_reviewer(reviewer));
  TF_ASSIGN_OR_RETURN(SessionPtr s, resolve(ref));
  std::optional<Item> planned;
  Item previous;  // restored if the lease cannot be stored
  {
    std::lock_guard lock(s->mu);
    if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
    if (!allowed(s->record, reviewer)) {
      return Status{ErrorCode::permission_denied, "reviewer: " + std::string(reviewer) +
                                                      " is not assigned to labeling session " +
                                                      s->record.name};
    }
    const int64_t now = now_ms();
    _stats.leases_expired += s->queue.expire_leases(now);
    bool reused = false;
    planned = s->queue.plan_claim(reviewer, now, new_span_id(), &reused);
    if (!planned) {
      ++_stats.claims_empty;
      return std::optional<ClaimResult>();
    }
    if (reused)
      return std::optional<ClaimResult>(ClaimResult{planned->trace_id, *planned->lease, true});
    previous = *s->queue.find(planned->trace_id);
    planned->pinned = planned->lease->token;
    s->queue.put(*planned);
  }
  // Stored before it is handed out — after a crash this lease is never granted again — with no
  // lock held, so concurrent claims and submits share their fsyncs.
  const Status written = write_item(s->record.id, *planned);
  std::lock_guard lock(s->mu);
  if (!written.is_ok()) {
    s->queue.put(std::move(previous));
    return written;
  }
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " was deleted");
  planned->pinned.clear();
  ClaimResult out{planned->trace_id, *planned->lease, false};
  s->queue.put(std::move(*planned));
  ++_stats.claims;
  return std::optional<ClaimResult>(std::move(out));
}

Result<SubmitResult> LabelingService::submit(std::string_view ref, std::string_view trace_id,
                                             std::string_view reviewer,
                                             std::string_view lease_token, const JsonTree& labels,
                                             const JsonTree* comments) {
  TF_RETURN_IF_ERROR(check_reviewer(reviewer));
  if (lease_token.empty()) return Status::invalid_argument("lease_token: required");

  // The session and its schemas, as of now (a schema replaced meanwhile is validated as it was).
  SessionPtr s;
  std::map<std::string, std::shared_ptr<const SchemaEntry>, std::less<>> schemas;
  {
    std::shared_lock lock(_mu);
    s = find_session_locked(ref);
    if (!s) return Status::not_found("labeling session " + std::string(ref) + " not found");
    for (const auto& name : s->record.label_schemas) {
      if (auto it = _schemas.find(name); it != _schemas.end()) schemas.emplace(name, it->second);
    }
  }
  if (!allowed(s->record, reviewer)) {
    return Status{ErrorCode::permission_denied, "reviewer: " + std::string(reviewer) +
                                                    " is not assigned to labeling session " +
                                                    s->record.name};
  }

  // Validate every answer before touching the item: a bad label changes nothing.
  if (!labels.is_object())
    return Status::invalid_argument("labels: expected an object {schema: value}");
  if (labels.as_object().empty())
    return Status::invalid_argument("labels: at least one label is required (or skip the item)");
  Review review;
  review.reviewer = std::string(reviewer);
  review.token = std::string(lease_token);
  for (const auto& [name, value] : labels.as_object()) {
    const std::string field = "labels." + name;
    if (std::find(s->record.label_schemas.begin(), s->record.label_schemas.end(), name) ==
        s->record.label_schemas.end()) {
      std::string expected;
      for (const auto& n : s->record.label_schemas) expected += (expected.empty() ? "" : ", ") + n;
      return Status::invalid_argument(
          field + ": not a label schema of this session (expected one of: " + expected + ")");
    }
    auto def = schemas.find(name);
    if (def == schemas.end())
      return Status::invalid_argument(field + ": label schema " + name + " no longer exists");
    for (const auto& [done, v] : review.labels) {
      if (done == name) return Status::invalid_argument(field + ": given twice");
    }
    TF_ASSIGN_OR_RETURN(JsonText canonical,
                        validate_label_value(def->second->schema, value, field));
    review.labels.emplace_back(name, std::move(canonical));
  }
  if (comments && !comments->is_null()) {
    if (!comments->is_object())
      return Status::invalid_argument("comments: expected an object {schema: text}");
    for (const auto& [name, text] : comments->as_object()) {
      const std::string field = "comments." + name;
      if (text.is_null()) continue;
      auto labeled = std::find_if(review.labels.begin(), review.labels.end(),
                                  [&](const auto& l) { return l.first == name; });
      if (labeled == review.labels.end())
        return Status::invalid_argument(field + ": no label given for " + name);
      if (!schemas.at(name)->schema.enable_comment) {
        return Status::invalid_argument(field + ": label schema " + name +
                                        " does not take comments (enable_comment is false)");
      }
      if (!text.is_string())
        return Status::invalid_argument(field + ": expected a string, got " +
                                        std::string(text.type_name()));
      if (text.as_string().size() > kMaxRationaleBytes) {
        return Status::invalid_argument(field + ": longer than " +
                                        std::to_string(kMaxRationaleBytes) + " bytes");
      }
      review.comments.emplace_back(name, text.as_string());
    }
  }

  auto ids_of = [&](const Review& r) {
    std::vector<std::pair<std::string, std::string>> ids;
    for (const auto& [schema, value] : r.labels) {
      ids.emplace_back(schema, assessment_id_for(s->record.id, trace_id, reviewer, schema));
    }
    return ids;
  };

  // Phase 1: check the lease and pin it while the answers are produced (a pinned lease cannot
  // expire and be granted to someone else meanwhile).
  Item pinned;
  {
    std::lock_guard lock(s->mu);
    if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
    auto check = s->queue.check_lease(trace_id, reviewer, lease_token, now_ms());
    if (!check.is_ok()) {
      if (check.status().code() == ErrorCode::conflict) ++_stats.conflicts;
      return check.status();
    }
    const Item& item = *s->queue.find(trace_id);
    if (*check == LeaseCheck::already_submitted) {
      for (const auto& r : item.reviews) {
        if (r.reviewer == reviewer && r.token == lease_token) {
          return SubmitResult{item.trace_id, s->queue.status(item), ids_of(r), true};
        }
      }
    }
    if (*check == LeaseCheck::already_skipped) {
      ++_stats.conflicts;
      return Status::conflict("lease_token: you skipped this item with this lease");
    }
    pinned = item;
    pinned.pinned = std::string(lease_token);
    s->queue.put(pinned);
  }

  // Phase 2: one assessment per label, acknowledged by Kafka before the review is recorded.
  const int64_t now = now_ms();
  review.time_ms = now;
  std::vector<Envelope> events;
  events.reserve(review.labels.size());
  for (const auto& [schema, value] : review.labels) {
    const auto& def = schemas.at(schema)->schema;
    Envelope e;
    e.event_id = derived_hex32(seed_of(s->record.id, trace_id, reviewer, schema) + '\0' +
                               std::string(lease_token));
    e.type = EventType::assessment;
    e.time = now * 1'000'000;
    Assessment a;
    a.assessment_id = assessment_id_for(s->record.id, trace_id, reviewer, schema);
    a.assessment_name = schema;
    a.trace_id = std::string(trace_id);
    a.source = {SourceType::human, std::string(reviewer)};
    a.create_time = a.last_update_time = e.time;
    using F = Assessment::Field;
    a.present = F::f_assessment_id | F::f_name | F::f_trace_id | F::f_source | F::f_create_time |
                F::f_last_update_time | F::f_metadata;
    if (def.type == config::LabelSchemaType::expectation) {
      a.value = Expectation{value};
      a.present |= F::f_expectation;
    } else {
      a.value = Feedback{value, std::nullopt};
      a.present |= F::f_feedback;
    }
    for (const auto& [cs, text] : review.comments) {
      if (cs == schema) {
        a.rationale = text;
        a.present |= F::f_rationale;
      }
    }
    a.metadata = {{std::string(kSessionIdMeta), s->record.id},
                  {std::string(kSessionNameMeta), s->record.name}};
    e.payload = std::move(a);
    events.push_back(std::move(e));
  }
  Status produced;
  for (const auto& e : events) {
    if (Status v = validate_envelope(e); !v.is_ok()) {
      produced = Status::internal("labeling: built an invalid assessment: " + v.message());
      break;
    }
  }
  if (produced.is_ok()) {
    for (const Status& st : _sink.publish(events)) {
      if (!st.is_ok() && produced.is_ok()) produced = st;
    }
  }
  // Acknowledged: record the review (still pinned, so nothing else touches the item).
  Item unpinned = pinned;
  unpinned.pinned.clear();
  Item recorded = unpinned;
  recorded.lease.reset();
  recorded.reviews.push_back(review);
  Status written;
  if (produced.is_ok()) {
    _stats.assessments_produced += events.size();
    written = write_item(s->record.id, recorded);
  }

  // Phase 3: the review in memory — or the lease unpinned, so the reviewer can retry.
  std::unique_lock lock(s->mu);
  if (!produced.is_ok()) {
    s->queue.put(std::move(unpinned));
    ++_stats.produce_failures;
    if (produced.code() == ErrorCode::internal) return produced;
    return Status::unavailable("the labels were not acknowledged by Kafka (" + produced.message() +
                               "); retry with the same lease_token");
  }
  if (!written.is_ok()) {
    s->queue.put(std::move(unpinned));
    return written;
  }
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " was deleted");
  SubmitResult out{recorded.trace_id, ItemStatus::pending, ids_of(review), false};
  if (recorded.reviews.size() >= 2) {
    s->multi_reviewed.insert(recorded.trace_id);
    s->agreement_dirty = true;
  }
  CompletedItemInfo completed;
  if (_options.on_item_completed) {
    completed.session_id = s->record.id;
    completed.session_name = s->record.name;
    completed.trace_id = recorded.trace_id;
    for (const Review& r : recorded.reviews) {
      for (auto& [schema, id] : ids_of(r)) completed.assessment_ids.push_back(std::move(id));
    }
  }
  s->queue.put(std::move(recorded));
  out.status = s->queue.status(*s->queue.find(trace_id));
  ++_stats.submits;
  lock.unlock();
  if (out.status == ItemStatus::completed && _options.on_item_completed) _options.on_item_completed(completed);
  return out;
}

Result<SkipResult> LabelingService::skip(std::string_view ref, std::string_view trace_id,
                                         std::string_view reviewer, std::string_view lease_token) {
  TF_RETURN_IF_ERROR(check_reviewer(reviewer));
  if (lease_token.empty()) return Status::invalid_argument("lease_token: required");
  TF_ASSIGN_OR_RETURN(SessionPtr s, resolve(ref));
  Item unpinned;
  {
    std::lock_guard lock(s->mu);
    if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " not found");
    if (!allowed(s->record, reviewer)) {
      return Status{ErrorCode::permission_denied, "reviewer: " + std::string(reviewer) +
                                                      " is not assigned to labeling session " +
                                                      s->record.name};
    }
    auto check = s->queue.check_lease(trace_id, reviewer, lease_token, now_ms());
    if (!check.is_ok()) {
      if (check.status().code() == ErrorCode::conflict) ++_stats.conflicts;
      return check.status();
    }
    const Item& item = *s->queue.find(trace_id);
    if (*check == LeaseCheck::already_skipped)
      return SkipResult{item.trace_id, s->queue.status(item)};
    if (*check == LeaseCheck::already_submitted) {
      ++_stats.conflicts;
      return Status::conflict("lease_token: you already submitted this item with this lease");
    }
    unpinned = item;
    Item pinned = item;
    pinned.pinned = std::string(lease_token);
    s->queue.put(std::move(pinned));
  }
  Item skipped = unpinned;
  skipped.lease.reset();
  skipped.skips.push_back(Skip{std::string(reviewer), std::string(lease_token), now_ms()});
  const Status written = write_item(s->record.id, skipped);
  std::lock_guard lock(s->mu);
  if (!written.is_ok()) {
    s->queue.put(std::move(unpinned));
    return written;
  }
  if (s->deleted) return Status::not_found("labeling session " + std::string(ref) + " was deleted");
  s->queue.put(std::move(skipped));
  ++_stats.skips;
  const Item& now_item = *s->queue.find(trace_id);
  return SkipResult{now_item.trace_id, s->queue.status(now_item)};
}

// ---------------------------------------------------------------------------------------------
// The review topic

Status LabelingService::apply_routed(std::span<const RoutedItem> items, std::string_view cluster_id,
                                     std::span<const ConsumedOffset> offsets) {
  // Shared: claims go on; session creation (which adopts orphans) waits, so an item is never
  // orphaned for a session created in the middle of this batch.
  std::shared_lock lock(_mu);
  std::map<std::string, SessionPtr> touched;  // by id: locked in id order (the lock order)
  for (const auto& r : items) {
    if (auto it = _session_ids.find(r.session); it != _session_ids.end())
      touched.emplace(it->second, _sessions.at(it->second));
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(touched.size());
  for (auto& [id, s] : touched) locks.emplace_back(s->mu);

  state::WriteBatch batch(_store);
  std::map<Session*, std::vector<std::pair<Item, int64_t>>> added;  // item, routing event time (ns)
  std::map<Session*, std::set<std::string_view>> seen;
  std::map<std::string, uint64_t> orphaned;
  uint64_t duplicates = 0;
  std::string encoded;
  const int64_t now = now_ms();
  for (const auto& r : items) {
    auto id = _session_ids.find(r.session);
    if (id == _session_ids.end()) {
      // No such session (yet): keep the item under the session's name; a session created with
      // that name later takes it (adopt_orphans_locked).
      const std::string key = orphan_key(r.session, r.trace_id);
      TF_ASSIGN_OR_RETURN(auto present, batch.get(Family::labeling, key));
      if (present) {
        ++duplicates;
        continue;
      }
      batch.put(Family::labeling, key, routed_item_json(r));
      ++orphaned[r.session];
      continue;
    }
    Session* s = touched.at(id->second).get();
    if (s->queue.find(r.trace_id) || !seen[s].insert(r.trace_id).second) {
      ++duplicates;
      continue;
    }
    Item item;
    item.trace_id = r.trace_id;
    item.seq = s->queue.next_seq() + added[s].size();
    item.priority = r.priority;
    item.rule = r.rule;
    item.source = ItemSource::routed;
    item.added_ms = r.time_ns != 0 ? r.time_ns / 1'000'000 : now;
    encode_item(item, encoded);
    batch.put(Family::labeling, item_key(s->record.id, item.trace_id), encoded);
    added[s].emplace_back(std::move(item), r.time_ns);
  }
  for (const auto& o : offsets) batch.set_offset(cluster_id, o.topic, o.partition, o.next_offset);
  TF_RETURN_IF_ERROR(_store.write(batch, {.sync = _options.sync_writes}));

  uint64_t routed = 0, orphans = 0;
  for (auto& [s, list] : added) {
    routed += list.size();
    for (auto& [item, event_ns] : list) {
      s->queue.put(std::move(item));
      if (_options.on_routed && event_ns != 0) {
        const int64_t latency_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch())
                .count() -
            event_ns;
        _options.on_routed(s->record.name, std::max<int64_t>(0, latency_ns));
      }
    }
  }
  if (!orphaned.empty()) {
    std::lock_guard orphan_lock(_orphan_mu);
    for (const auto& [name, n] : orphaned) {
      if (_orphans[name] == 0) {
        spdlog::warn(
            "labeling: routed items for labeling session {}, which does not exist; they are kept "
            "and go to "
            "the session if one with that name is created",
            name);
      }
      _orphans[name] += n;
      orphans += n;
    }
  }
  _stats.items_routed += routed;
  _stats.orphaned += orphans;
  _stats.duplicates += duplicates;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Metrics and membership

std::vector<AgreementValue> LabelingService::agreement() const {
  std::shared_lock lock(_mu);
  std::vector<AgreementValue> out;
  for (const auto& [name, id] : _session_ids) {
    const SessionPtr& s = _sessions.at(id);
    std::lock_guard session_lock(s->mu);
    for (auto& a : agreement_locked(*s)) out.push_back({name, std::move(a.schema), a.agreement});
  }
  return out;
}

std::vector<SessionMetrics> LabelingService::session_metrics() const {
  std::shared_lock lock(_mu);
  std::vector<SessionMetrics> out;
  const int64_t now = now_ms();
  for (const auto& [name, id] : _session_ids) {
    const SessionPtr& s = _sessions.at(id);
    std::lock_guard session_lock(s->mu);
    const size_t expired = s->queue.expire_leases(now);
    _stats.leases_expired += expired;
    out.push_back({name, s->queue.counts(),
                   static_cast<double>(s->queue.oldest_pending_age_ms(now)) / 1000.0,
                   s->queue.reviewer_progress()});
  }
  return out;
}

std::map<std::string, uint64_t> LabelingService::orphaned_items() const {
  std::lock_guard lock(_orphan_mu);
  std::map<std::string, uint64_t> out;
  for (const auto& [name, n] : _orphans) {
    if (n) out.emplace(name, n);
  }
  return out;
}

namespace {
SessionRun run_of(const SessionRecord& r) {
  return SessionRun{r.mlflow_run_id, r.experiment_id, r.id, r.name, r.create_time_ms};
}
}  // namespace

std::optional<SessionRun> LabelingService::find_run(std::string_view run_id) const {
  std::shared_lock lock(_mu);
  for (const auto& [id, s] : _sessions) {
    if (s->record.mlflow_run_id == run_id || s->record.id == run_id) return run_of(s->record);
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> LabelingService::traces_of_run(
    std::string_view run_id) const {
  std::shared_lock lock(_mu);
  for (const auto& [id, s] : _sessions) {
    if (s->record.mlflow_run_id != run_id && s->record.id != run_id) continue;
    std::lock_guard session_lock(s->mu);
    std::vector<std::string> out;
    out.reserve(s->queue.size());
    s->queue.for_each(0, [&](const Item& item) {
      out.push_back(item.trace_id);
      return true;
    });
    return out;
  }
  return std::nullopt;
}

std::vector<SessionRun> LabelingService::sessions_of_trace(std::string_view trace_id) const {
  std::shared_lock lock(_mu);
  std::vector<SessionRun> out;
  for (const auto& [id, s] : _sessions) {
    std::lock_guard session_lock(s->mu);
    if (s->queue.find(trace_id)) out.push_back(run_of(s->record));
  }
  return out;
}

}  // namespace tracefeed::labeling
