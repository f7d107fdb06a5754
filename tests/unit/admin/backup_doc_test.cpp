// The backup document of GET /api/backup and POST /api/backup/restore: what backup_json writes
// parse_backup reads back unchanged, and every bad document is a 400 naming the field.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "admin/handlers_backup.hpp"

namespace qcc::admin {
namespace {

namespace json = boost::json;

BackupContents sample() {
    BackupContents b;
    config::EndpointConfig a;
    a.name = "relay";
    a.base_url = "https://relay.example.com/prefix";
    a.api_key = "sk-ant-relay-0123456789abcdef";
    a.auth = config::AuthMode::kBearer;
    a.tier = 2;
    a.weight = 300;
    a.enabled = false;
    a.tls_verify = false;
    a.model_map = {{"claude-opus-4-5", "glm-4.6"}, {"*", "glm-4.5"}};
    a.tags = {"eu", "cheap"};
    a.models = {"opus", "claude-sonnet-*"};
    a.connect_timeout = config::Millis(1500);
    a.idle_timeout = config::Millis(120'000);
    config::EndpointConfig o;
    o.name = "open.b";
    o.base_url = "http://127.0.0.1:9000";
    o.api_key = "sk-open";
    o.kind = config::EndpointKind::kOpenAI;
    b.endpoints = {a, o};
    b.keys = {{"laptop", std::string(64, 'a'), "sk-qcc-3f9a1c", 1'700'000'000'000, false},
              {"old", std::string(64, '0'), "sk-qcc-000000", 1'600'000'000'000, true}};
    b.settings = {{"breaker.open", "45s"}, {"balance.strategy", "round-robin"}};
    return b;
}

/// The message of the 400 parse_backup raises for `doc` ("" when it raises none).
std::string error_of(const json::object& doc) {
    try {
        parse_backup(doc);
        return "";
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status(), 400) << e.what();
        return e.what();
    }
}

TEST(BackupDocument, RoundTripsEveryField) {
    const auto b = sample();
    const auto doc = backup_json(b, 1234);
    EXPECT_EQ(doc.at("format"), json::value("qcc-backup"));
    EXPECT_EQ(doc.at("version"), json::value(1));
    EXPECT_EQ(doc.at("created_at"), json::value(1234));
    EXPECT_FALSE(doc.at("qcc_version").as_string().empty());
    EXPECT_EQ(doc.at("endpoints").as_array()[0].as_object().at("api_key"),
              json::value("sk-ant-relay-0123456789abcdef"))
        << "the credential is in the backup in clear (the CLI encrypts the file)";
    const auto back = parse_backup(json::parse(json::serialize(doc)).as_object());
    EXPECT_EQ(back.endpoints, b.endpoints);
    ASSERT_EQ(back.keys.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back.keys[i].name, b.keys[i].name);
        EXPECT_EQ(back.keys[i].key_hash, b.keys[i].key_hash);
        EXPECT_EQ(back.keys[i].prefix, b.keys[i].prefix);
        EXPECT_EQ(back.keys[i].created_at, b.keys[i].created_at);
        EXPECT_EQ(back.keys[i].revoked, b.keys[i].revoked);
    }
    EXPECT_EQ(back.settings, b.settings);
}

TEST(BackupDocument, AnEmptyBackupIsValid) {
    const auto back = parse_backup(backup_json({}, 0));
    EXPECT_TRUE(back.endpoints.empty());
    EXPECT_TRUE(back.keys.empty());
    EXPECT_TRUE(back.settings.empty());
}

TEST(BackupDocument, FormatAndVersionAreChecked) {
    auto doc = backup_json(sample(), 0);
    doc["format"] = "qcc-config";
    EXPECT_NE(error_of(doc).find("format: expected \"qcc-backup\""), std::string::npos);
    doc = backup_json(sample(), 0);
    doc["version"] = 2;
    EXPECT_EQ(error_of(doc), "version: unsupported backup version 2 (this QCC reads version 1)");
    doc = backup_json(sample(), 0);
    doc.erase("endpoints");
    EXPECT_EQ(error_of(doc), "endpoints: required");
    doc = backup_json(sample(), 0);
    doc["extra"] = 1;
    EXPECT_NE(error_of(doc).find("unknown field 'extra'"), std::string::npos);
}

TEST(BackupDocument, EndpointErrorsNameTheEntryAndField) {
    auto doc = backup_json(sample(), 0);
    auto& eps = doc["endpoints"].as_array();
    eps[1].as_object()["tier"] = 12;
    EXPECT_NE(error_of(doc).find("endpoints[1] (open.b): tier:"), std::string::npos)
        << error_of(doc);
    eps[1].as_object()["tier"] = 1;
    eps[0].as_object().erase("api_key");
    EXPECT_EQ(error_of(doc), "endpoints[0] (relay): api_key: required");
    eps[0].as_object()["api_key"] = 5;
    EXPECT_EQ(error_of(doc), "endpoints[0] (relay): api_key: expected a string");
    eps[0].as_object()["api_key"] = "k";
    eps[0].as_object()["state"] = "closed";
    EXPECT_EQ(error_of(doc), "endpoints[0] (relay): state: read-only field");
    eps[0] = json::value("relay");
    EXPECT_EQ(error_of(doc), "endpoints[0]: expected an object");
    eps[0] = eps[1];
    EXPECT_EQ(error_of(doc), "endpoints[1] (open.b): name: appears twice");
}

TEST(BackupDocument, KeyAndSettingErrorsNameTheField) {
    auto doc = backup_json(sample(), 0);
    doc["keys"].as_array()[0].as_object()["key_hash"] = "sk-qcc-plaintext-key";
    EXPECT_NE(error_of(doc).find("keys[0] (laptop): key_hash: expected 64 lower-case hex"),
              std::string::npos)
        << error_of(doc);
    doc = backup_json(sample(), 0);
    doc["keys"].as_array()[1].as_object()["name"] = "bad name";
    EXPECT_NE(error_of(doc).find("keys[1] (bad name): name:"), std::string::npos) << error_of(doc);
    doc = backup_json(sample(), 0);
    doc["keys"].as_array()[1].as_object()["prefix"] = "";
    EXPECT_EQ(error_of(doc), "keys[1] (old): prefix: must be 1 to 64 printable characters");
    doc = backup_json(sample(), 0);
    doc["settings"].as_object()["breaker.open"] = "soon";
    EXPECT_NE(error_of(doc).find("settings: breaker.open:"), std::string::npos) << error_of(doc);
    doc = backup_json(sample(), 0);
    doc["settings"].as_object()["no.such"] = "1";
    EXPECT_EQ(error_of(doc), "settings: unknown setting 'no.such'");
    doc = backup_json(sample(), 0);
    doc["settings"].as_object()["breaker.open"] = 45;
    EXPECT_EQ(error_of(doc), "settings.breaker.open: expected a string");
}

}  // namespace
}  // namespace qcc::admin
