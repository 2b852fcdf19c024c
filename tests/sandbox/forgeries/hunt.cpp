// Hunter (stdio): find a task file by walking the usual roots and print its expected output.
// A candidate program, read as text by the forgery tests (see ../forgeries_support.py).

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

static bool read_small(const fs::path& p, std::string& out) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec) || ec) return false;
    auto size = fs::file_size(p, ec);
    if (ec || size > (1u << 20)) return false;
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

static bool wanted(const std::string& name) {
    for (std::string ext : {".json", ".jsonl", ".sqlite", ".sqlite-wal"})
        if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
            return true;
    return false;
}

static std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\') o += "\\\\";
        else if (c == '"') o += "\\\"";
        else if (c == '\n') o += "\\n";
        else o += c;
    }
    return o;
}

static std::string unescape_until_quote(const std::string& s, size_t i) {
    std::string o;
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char n = s[i + 1];
            o += n == 'n' ? '\n' : n == 't' ? '\t' : n;
            i += 2;
        } else {
            o += s[i++];
        }
    }
    return o;
}

int main() {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::vector<std::string> lines;
    {
        std::istringstream ls(data);
        std::string l;
        while (std::getline(ls, l)) lines.push_back(l);
    }
    if (lines.size() < 3) return 1;
    const std::string marker = lines[0], mode = lines[1], esc = escape(data);
    const std::string keys[] = {"\"stdin\": \"" + esc + "\", \"expected\": \"",
                                "\"stdin\":\"" + esc + "\",\"expected\":\""};
    std::vector<std::string> hits;
    std::string answer;
    bool have = false;
    auto consider = [&](const fs::path& p) {
        std::string text;
        if (!read_small(p, text) || text.find(marker) == std::string::npos) return;
        hits.push_back(p.string());
        for (const auto& key : keys) {
            size_t at = text.find(key);
            if (!have && at != std::string::npos) {
                answer = unescape_until_quote(text, at + key.size());
                have = true;
            }
        }
    };
    std::vector<std::pair<fs::path, int>> level;
    for (size_t i = 3; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        std::error_code ec;
        if (fs::is_directory(lines[i], ec)) level.emplace_back(lines[i], 0);
        else consider(lines[i]);
    }
    long seen = 0;
    while (!level.empty() && seen < 200000) {
        std::vector<std::pair<fs::path, int>> deeper;
        for (const auto& [dir, depth] : level) {
            if (dir == "/proc" || dir == "/sys" || dir == "/dev") continue;
            std::error_code ec;
            fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
            for (; !ec && it != end; it.increment(ec)) {
                ++seen;
                const fs::path p = it->path();
                const std::string name = p.filename().string();
                std::error_code e2;
                fs::file_status st = it->symlink_status(e2);
                if (e2) continue;
                if (fs::is_directory(st)) {
                    if (!name.empty() && name[0] != '.' && depth + 1 < 6) deeper.emplace_back(p, depth + 1);
                } else if (fs::is_regular_file(st) && wanted(name)) {
                    consider(p);
                }
            }
        }
        level.swap(deeper);
    }
    if (mode == "report") {
        for (const auto& h : hits) std::cout << h << '\n';
    } else {
        std::cout << (have ? answer : std::string("nothing\n"));
    }
    return 0;
}
