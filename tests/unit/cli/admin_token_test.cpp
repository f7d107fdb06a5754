// The local admin token file: created private, reused, and refused when others can read it.
#include "cli/admin_token.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace qcc::cli {
namespace {

TEST(AdminToken, CreatedPrivateThenReused) {
    const test::TempDir dir("qcc-token-test");
    const auto token = load_or_create_admin_token(dir.path().string());
    EXPECT_GE(token.size(), 32u);
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("admin.token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(load_or_create_admin_token(dir.path().string()), token);
}

TEST(AdminToken, AFileOthersCanReadIsRefusedWithTheFix) {
    const test::TempDir dir("qcc-token-test");
    const auto path = dir.file("admin.token");
    std::ofstream(path) << "qcc-admin-readable-by-everyone\n";
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    try {
        load_or_create_admin_token(dir.path().string());
        ADD_FAILURE() << "a 0644 admin.token was used";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("0644"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace qcc::cli
