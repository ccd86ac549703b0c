#pragma once

#include "Wire.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace loadgen {

// Builds one JSON object, field by field.
class JsonObject
{
public:
    JsonObject &text(std::string_view name, std::string_view value)
    {
        key(name);
        appendJsonString(m_text, value);
        return *this;
    }
    JsonObject &integer(std::string_view name, int64_t value)
    {
        key(name);
        m_text += std::to_string(value);
        return *this;
    }
    JsonObject &real(std::string_view name, std::optional<double> value, int decimals)
    {
        if (!value || !std::isfinite(*value))
            return null(name);
        std::array<char, 64> buffer{};
        std::snprintf(buffer.data(), buffer.size(), "%.*f", decimals, *value);
        std::string_view number = buffer.data();
        if (number.find('.') != std::string_view::npos) {
            while (number.ends_with('0'))
                number.remove_suffix(1);
            if (number.ends_with('.'))
                number.remove_suffix(1);
        }
        key(name);
        m_text += number;
        return *this;
    }
    JsonObject &boolean(std::string_view name, bool value)
    {
        key(name);
        m_text += value ? "true" : "false";
        return *this;
    }
    JsonObject &null(std::string_view name)
    {
        key(name);
        m_text += "null";
        return *this;
    }
    JsonObject &object(std::string_view name, const JsonObject &value)
    {
        key(name);
        m_text += value.str();
        return *this;
    }
    std::string str() const { return m_text + "}"; }

private:
    void key(std::string_view name)
    {
        if (m_text.size() > 1)
            m_text += ',';
        appendJsonString(m_text, name);
        m_text += ':';
    }

    std::string m_text = "{";
};

} // namespace loadgen
