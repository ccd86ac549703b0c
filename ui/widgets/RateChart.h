#pragma once

#include <QWidget>

#include <deque>

namespace sb::ui {

// A small live chart of messages per second: emits in (accent) and deliveries out (grey),
// one sample per stats frame, the last two minutes.
class RateChart final : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kSamples = 120;

    explicit RateChart(QWidget *parent = nullptr);

    void addSample(double in, double out);
    void clear();
    QSize sizeHint() const override { return {240, 48}; }
    QSize minimumSizeHint() const override { return {120, 36}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    std::deque<std::pair<double, double>> m_samples;
};

} // namespace sb::ui
